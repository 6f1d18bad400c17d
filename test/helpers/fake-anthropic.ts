import { appendFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the Anthropic Messages API, served on 127.0.0.1, that lets a test script the
 * model's side of a real Claude Code conversation. Claude Code 2.1.332 sends
 * `POST /v1/messages?beta=true` with `stream: true` and reads server-sent events:
 * message_start, content_block_start / content_block_delta / content_block_stop per block,
 * message_delta with the stop reason, message_stop.
 *
 * Each request of the conversation (one that offers tools) takes the next scripted turn;
 * other requests (a compaction's summary, titles) get a short text answer of their own.
 * Every request is kept, so a test can read what Claude Code sent back to the model.
 */
export interface ToolCall {
  name: string;
  input: Record<string, unknown>;
}

export interface Turn {
  text?: string;
  tools?: ToolCall[];
}

/** A scripted turn, or a function of the request that chooses one. */
export type Step = Turn | ((request: ModelRequest) => Turn);

export interface ModelRequest {
  url: string;
  body: {
    model?: string;
    system?: unknown;
    messages?: Array<{ role: string; content: unknown }>;
    tools?: Array<{ name: string; description?: string }>;
    [key: string]: unknown;
  };
  /** The request belongs to the conversation (it offers tools), rather than being a side call. */
  conversation: boolean;
}

export interface ToolResult {
  tool_use_id: string;
  content: string;
  is_error: boolean;
}

export class FakeAnthropic {
  readonly requests: ModelRequest[] = [];
  private steps: Step[] = [];
  private server?: http.Server;
  private toolIds = 0;
  /** What a side request (compaction summary, titles) is answered with. */
  sideAnswer = 'Summary: the work so far, as the conversation left it.';

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => this.answer(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The turns the next conversation's requests take, in order; then "Done." ends it. */
  script(steps: Step[]): void {
    this.steps = [...steps];
    this.requests.length = 0;
  }

  /** Every tool result Claude Code sent back to the model, in order, without duplicates. */
  toolResults(): ToolResult[] {
    const seen = new Map<string, ToolResult>();
    for (const request of this.requests)
      for (const message of request.body.messages ?? []) {
        if (message.role !== 'user' || !Array.isArray(message.content)) continue;
        for (const block of message.content as Array<Record<string, unknown>>) {
          if (block.type !== 'tool_result') continue;
          const id = String(block.tool_use_id);
          seen.set(id, {
            tool_use_id: id,
            content: textOf(block.content),
            is_error: block.is_error === true,
          });
        }
      }
    return [...seen.values()];
  }

  /** All the text Claude Code sent to the model in its requests (system, messages), joined. */
  sentText(filter: (request: ModelRequest) => boolean = () => true): string {
    return this.requests
      .filter(filter)
      .map(
        (r) =>
          `${textOf(r.body.system)}\n${(r.body.messages ?? []).map((m) => textOf(m.content)).join('\n')}`,
      )
      .join('\n');
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: ModelRequest['body'] = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        // not JSON: answered as a side request
      }
      const url = req.url ?? '';
      if (req.method !== 'POST' || !url.startsWith('/v1/messages') || url.includes('count_tokens')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ input_tokens: 100 }));
        return;
      }
      const request: ModelRequest = { url, body, conversation: (body.tools?.length ?? 0) > 0 };
      this.requests.push(request);
      // FAKE_ANTHROPIC_LOG=file keeps every request, to see what Claude Code sends when a test fails.
      if (process.env.FAKE_ANTHROPIC_LOG)
        appendFileSync(process.env.FAKE_ANTHROPIC_LOG, `${JSON.stringify(body)}\n`);
      const step = request.conversation ? this.steps.shift() : { text: this.sideAnswer };
      const turn = typeof step === 'function' ? step(request) : (step ?? { text: 'Done.' });
      this.stream(res, body.model ?? 'claude', turn);
    });
  }

  private stream(res: http.ServerResponse, model: string, turn: Turn) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (type: string, data: Record<string, unknown>) =>
      res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    send('message_start', {
      message: {
        id: `msg_${this.requests.length}`,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 100, output_tokens: 1 },
      },
    });
    let index = 0;
    if (turn.text) {
      send('content_block_start', { index, content_block: { type: 'text', text: '' } });
      send('content_block_delta', { index, delta: { type: 'text_delta', text: turn.text } });
      send('content_block_stop', { index });
      index++;
    }
    for (const tool of turn.tools ?? []) {
      const id = `toolu_${String(++this.toolIds).padStart(4, '0')}`;
      send('content_block_start', {
        index,
        content_block: { type: 'tool_use', id, name: tool.name, input: {} },
      });
      send('content_block_delta', {
        index,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(tool.input) },
      });
      send('content_block_stop', { index });
      index++;
    }
    send('message_delta', {
      delta: { stop_reason: turn.tools?.length ? 'tool_use' : 'end_turn', stop_sequence: null },
      usage: { output_tokens: 10 },
    });
    send('message_stop', {});
    res.end();
  }
}

/** The text of a content value: a string, or blocks whose text (and nested content) is joined. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map(textOf).join('\n');
  if (content && typeof content === 'object') {
    const block = content as Record<string, unknown>;
    if (typeof block.text === 'string') return block.text;
    if (block.content !== undefined) return textOf(block.content);
  }
  return '';
}
