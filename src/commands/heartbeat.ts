import { openContext } from '../context/context.js';
import { requireCurrentSession } from '../context/current-session.js';
import { parse } from '../core/args.js';
import type { CommandSpec } from '../core/command.js';
import { refreshSession } from '../services/sessions.js';

/** What `heartbeat` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'heartbeat',
  usage: ['heartbeat [--session ID]'],
  summary: 'refresh the current session (hooks call it)',
  details: `Refreshes the current session's heartbeat and changed files. Writes at most once per quarter
of sessions.staleAfter unless something changed.`,
  examples: [
    { run: 'heartbeat', says: 'tell the others this session is still alive (the hooks do it for you)' },
    { run: 'heartbeat --session 20261201-101500000-a1b2c3', says: 'for a session bound to another worktree' },
  ],
  options: {
    session: { type: 'string' },
  },
} as const satisfies CommandSpec;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, command.options);
  const ctx = await openContext();
  const session = requireCurrentSession(ctx, values.session);
  refreshSession(ctx, session, { share: 'background' });
  return 0;
}
