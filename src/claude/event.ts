import path from 'node:path';

/**
 * Claude Code's hook protocol, as far as git-consortium uses it: the event JSON a hook reads
 * on stdin (common fields session_id, transcript_path, cwd, hook_event_name, plus the event's
 * own), and the answer it prints on stdout. Exit code 2 would block the agent, so a handler
 * never uses it: problems are reported on stderr with the non-blocking exit code 1.
 */
export const EVENTS = ['SessionStart', 'PreToolUse', 'PostToolUse', 'PreCompact', 'SessionEnd'] as const;
export type EventName = (typeof EVENTS)[number];

export const isEventName = (name: string): name is EventName => (EVENTS as readonly string[]).includes(name);

export interface ClaudeEvent {
  hookEventName: EventName;
  /** Claude Code's conversation id. */
  sessionId: string;
  /** Absolute working directory of the conversation: a workspace folder, the top, or a worktree. */
  cwd: string;
  transcriptPath?: string;
  /** SessionStart: startup | resume | clear | compact. */
  source?: string;
  /** SessionEnd: clear | logout | prompt_input_exit | other ... */
  reason?: string;
  /** PreCompact: manual | auto, and the text typed after /compact. */
  trigger?: string;
  customInstructions?: string;
  /** PreToolUse / PostToolUse. */
  toolName?: string;
  toolInput?: Record<string, unknown>;
}

/**
 * What a handler answers: JSON for stdout (or plain text, where Claude Code reads text, as
 * PreCompact's), a message for stderr, and the exit code.
 */
export interface HookAnswer {
  output?: Record<string, unknown> | string;
  message?: string;
  code: 0 | 1;
}

export const silent: HookAnswer = { code: 0 };
export const problem = (message: string): HookAnswer => ({ message, code: 1 });

/** Claude Code's session ids are UUIDs; this also accepts what `start --agent-session` does. */
const SESSION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Parses the event JSON; a string is the plain-language problem with it. */
export function parseEvent(text: string, expected: EventName): ClaudeEvent | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    const what = text.trim() === '' ? 'nothing' : `${text.length} bytes that are not valid JSON`;
    return `expected the ${expected} event JSON from Claude Code on stdin, got ${what}.`;
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    return `expected a JSON object for the ${expected} event on stdin.`;
  const r = raw as Record<string, unknown>;
  const name = r.hook_event_name;
  if (name !== undefined && name !== expected)
    return `the event on stdin is ${JSON.stringify(name)}, but this hook handles ${expected}: check the hook command in .claude/settings.json.`;
  if (typeof r.session_id !== 'string' || !SESSION_ID.test(r.session_id))
    return `the ${expected} event has no usable session_id (letters, digits, ".", "_", ":" or "-").`;
  const cwd = r.cwd === undefined ? process.cwd() : r.cwd;
  if (typeof cwd !== 'string' || !path.isAbsolute(cwd))
    return `the ${expected} event's cwd is not an absolute path.`;
  const text_ = (k: string) => (typeof r[k] === 'string' ? (r[k] as string) : undefined);
  const input = r.tool_input;
  return {
    hookEventName: expected,
    sessionId: r.session_id,
    cwd,
    transcriptPath: text_('transcript_path'),
    source: text_('source'),
    reason: text_('reason'),
    trigger: text_('trigger'),
    customInstructions: text_('custom_instructions'),
    toolName: text_('tool_name'),
    toolInput:
      input && typeof input === 'object' && !Array.isArray(input)
        ? (input as Record<string, unknown>)
        : undefined,
  };
}

/** The file an editing tool names: Edit, Write, MultiEdit use file_path, NotebookEdit notebook_path. */
export function toolFile(event: ClaudeEvent): string | undefined {
  const input = event.toolInput;
  if (!input) return undefined;
  const file = input.file_path ?? input.notebook_path;
  return typeof file === 'string' && file !== '' ? path.resolve(event.cwd, file) : undefined;
}

/** The hookSpecificOutput answer of an event. */
export function specific(event: EventName, fields: Record<string, unknown>): Record<string, unknown> {
  return { hookSpecificOutput: { hookEventName: event, ...fields } };
}
