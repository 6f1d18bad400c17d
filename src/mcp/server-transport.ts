import { serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/**
 * The server's stdio transport, answering what the SDK's own leaves unanswered (JSON-RPC 2.0,
 * section 5.1): a line that is not JSON gets -32700, a message that is not a request, a
 * notification or a response gets -32600 (with its id when it has a usable one, else null),
 * and params the SDK's schema refuses get -32602 in one line a person can read, where the SDK
 * answers -32603 with a multi-line dump. A client waiting on an id never waits forever, and the
 * server keeps serving whatever it is sent.
 */
type Id = string | number | null;

export class CheckedStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private pending = '';

  async start(): Promise<void> {
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      this.pending += chunk;
      for (let eol = this.pending.indexOf('\n'); eol >= 0; eol = this.pending.indexOf('\n')) {
        const line = this.pending.slice(0, eol).replace(/\r$/, '');
        this.pending = this.pending.slice(eol + 1);
        this.receive(line);
      }
    });
    process.stdin.on('end', () => this.onclose?.());
  }

  private receive(line: string): void {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.refuse(null, -32700, 'Parse error: the line is not JSON; send one JSON-RPC message per line.');
      return;
    }
    const problem = invalid(value);
    if (problem) this.refuse(problem.id, problem.code, problem.message);
    else this.onmessage?.(value as JSONRPCMessage);
  }

  private refuse(id: Id, code: number, message: string): void {
    this.write({ jsonrpc: '2.0', id, error: { code, message } } as unknown as JSONRPCMessage);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.write(readable(message));
  }

  private write(message: JSONRPCMessage): void {
    process.stdout.write(serializeMessage(message));
  }

  async close(): Promise<void> {
    this.onclose?.();
  }
}

const usableId = (id: unknown): id is string | number =>
  typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));

/** Why `value` is no JSON-RPC 2.0 message we can serve, or undefined when it is one. */
function invalid(value: unknown): { id: Id; code: number; message: string } | undefined {
  if (Array.isArray(value))
    return {
      id: null,
      code: -32600,
      message: 'Invalid Request: batches are not served; send one message per line.',
    };
  if (!value || typeof value !== 'object')
    return { id: null, code: -32600, message: 'Invalid Request: a message is a JSON object.' };
  const m = value as Record<string, unknown>;
  const id: Id = usableId(m.id) ? m.id : null;
  const bad = (message: string) => ({ id, code: -32600, message: `Invalid Request: ${message}` });
  if (m.jsonrpc !== '2.0') return bad('"jsonrpc" must be "2.0".');
  // A response (no method) is never answered, whatever its id: two strict peers would loop.
  if (!('method' in m) && ('result' in m || 'error' in m)) return undefined;
  if ('id' in m && !usableId(m.id)) return bad('"id" must be a string or a number.');
  // A notification (no id) is never answered either: the SDK drops what it cannot serve.
  if (!('id' in m) && typeof m.method === 'string' && m.method) return undefined;
  if ('method' in m) {
    if (typeof m.method !== 'string' || !m.method) return bad('"method" must be a non-empty string.');
    if ('params' in m && (typeof m.params !== 'object' || m.params === null))
      return { id, code: -32602, message: 'Invalid params: "params" must be an object.' };
    if (m.method === 'initialize') {
      const p = (m.params ?? {}) as Record<string, unknown>;
      const client = p.clientInfo as Record<string, unknown> | undefined;
      if (
        typeof p.protocolVersion !== 'string' ||
        !p.capabilities ||
        typeof p.capabilities !== 'object' ||
        !client ||
        typeof client.name !== 'string' ||
        typeof client.version !== 'string'
      )
        return {
          id,
          code: -32602,
          message:
            'Invalid params: initialize needs protocolVersion (a string), capabilities (an object) and clientInfo with a name and a version.',
        };
    }
    return undefined;
  }
  return bad('it has neither a "method" nor a "result" or "error" for an "id".');
}

/**
 * An error the SDK sends as -32603 with its schema's issues as a JSON dump is bad params:
 * -32602, in one line ("params.name: expected string, received number").
 */
function readable(message: JSONRPCMessage): JSONRPCMessage {
  const m = message as { error?: { code: number; message: string } };
  if (!m.error) return message;
  let text = m.error.message;
  let code = m.error.code;
  try {
    const issues = JSON.parse(text) as { path?: unknown[]; message?: string }[];
    if (Array.isArray(issues) && issues.every((i) => i && typeof i.message === 'string')) {
      code = -32602;
      text = `Invalid params: ${issues.map((i) => `${(i.path ?? []).join('.')}: ${i.message!.replace(/^Invalid input: /, '')}`).join('; ')}.`;
    }
  } catch {
    // not a dump: keep the message, on one line
  }
  return {
    ...message,
    error: { ...m.error, code, message: text.replace(/\s*\n\s*/g, ' ') },
  } as JSONRPCMessage;
}
