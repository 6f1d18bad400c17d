import {
  type ClaudeEvent,
  EVENTS,
  type EventName,
  type HookAnswer,
  isEventName,
  parseEvent,
} from '../claude/event.js';
import type { CommandSpec } from '../core/command.js';
import { ConsortiumError } from '../core/errors.js';
import { readStdin, stdinIsTerminal, writeTo } from '../core/stdio.js';
import { commandHelp } from '../help.js';

/** What `claude-hook` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'claude-hook',
  usage: ['claude-hook SessionStart|PreToolUse|PostToolUse|PreCompact|SessionEnd'],
  summary: 'entry point of the Claude Code hooks (event JSON on stdin)',
  details: `Called by the Claude Code hooks that init --claude installs, with Claude Code's event JSON on
stdin; answers in Claude Code's hook output format on stdout. SessionStart registers or resumes the
conversation's session and returns the orientation and latest handoff; PreToolUse denies an edit of a
file another session leases; PostToolUse records the file touched; PreCompact writes a handoff;
SessionEnd ends the session. Never exits 2 (which would block the agent): a problem, malformed event
JSON included, is a message on stderr and exit 1. CONSORTIUM=0 turns it off.`,
  examples: [
    {
      run: 'claude-hook PreToolUse',
      says: 'what Claude Code runs before a tool call (reads the event on stdin)',
    },
    { run: 'claude-hook SessionStart', says: 'what it runs when a conversation starts' },
  ],
  options: {},
} as const satisfies CommandSpec;

/**
 * Entry point of the Claude Code hooks: `git consortium claude-hook <EventName>` with the event
 * JSON on stdin. Whatever goes wrong, it never exits 2 (which Claude Code reads as "block"):
 * a plain message on stderr and exit 1, a non-blocking error, and the agent goes on.
 */
const HANDLERS: Record<EventName, () => Promise<(event: ClaudeEvent) => Promise<HookAnswer>>> = {
  SessionStart: async () => (await import('../claude/events/session-start.js')).sessionStart,
  PreToolUse: async () => (await import('../claude/events/pre-tool-use.js')).preToolUse,
  PostToolUse: async () => (await import('../claude/events/post-tool-use.js')).postToolUse,
  PreCompact: async () => (await import('../claude/events/pre-compact.js')).preCompact,
  SessionEnd: async () => (await import('../claude/events/session-end.js')).sessionEnd,
};

const STDIN_LIMIT_MS = 10_000;

export async function run(argv: string[]): Promise<number> {
  const name = argv[0];
  if (name === '--help' || name === '-h') {
    writeTo(1, `${commandHelp(command)}\n`);
    return 0;
  }
  if (name === undefined || !isEventName(name)) {
    return fail(
      `claude-hook needs one of ${EVENTS.join(', ')}${name === undefined ? '' : `, not ${JSON.stringify(name)}`}. ` +
        'Claude Code runs it from the hooks that git consortium init --claude installs.',
    );
  }
  // CONSORTIUM=0 turns the toolkit's hooks off, Claude Code's as well as git's.
  if (process.env.CONSORTIUM === '0') return 0;
  if (stdinIsTerminal())
    return fail(`claude-hook ${name} reads Claude Code's event JSON on stdin; nothing was given.`);
  const text = await readStdin(STDIN_LIMIT_MS);
  if (text === undefined)
    return fail(`claude-hook ${name}: stdin was not closed within ${STDIN_LIMIT_MS / 1000}s.`);
  const event = parseEvent(text, name);
  if (typeof event === 'string') return fail(`claude-hook ${name}: ${event} Nothing was changed.`);
  let answer: HookAnswer;
  try {
    answer = await (await HANDLERS[name]())(event);
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    if (process.env.CONSORTIUM_DEBUG && !(error instanceof ConsortiumError) && error instanceof Error)
      writeTo(2, `${error.stack}\n`);
    return fail(`claude-hook ${name}: ${message}`);
  }
  if (typeof answer.output === 'string') writeTo(1, `${answer.output}\n`);
  else if (answer.output) writeTo(1, `${JSON.stringify(answer.output)}\n`);
  if (answer.message) writeTo(2, `git-consortium: ${answer.message}\n`);
  return answer.code;
}

function fail(message: string): number {
  writeTo(2, `git-consortium: ${message}\n`);
  return 1;
}
