import { openContext } from '../context/context.js';
import { requireCurrentSession } from '../context/current-session.js';
import { parse } from '../core/args.js';
import type { CommandSpec } from '../core/command.js';
import { print, printJson } from '../core/output.js';
import { sessionJson } from '../render/json.js';
import { reportSharing } from '../render/sharing.js';
import { endSession } from '../services/sessions.js';
import { viewOf } from '../services/view.js';

/** What `end` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'end',
  usage: ['end [--session ID] [--quiet | --json]'],
  summary: 'end the current session and release its leases',
  details: `Ends the current session (or the one named) and releases its leases.`,
  examples: [
    { run: 'end', says: 'end this session: its leases are released and its end is shared' },
    { run: 'end --json', says: 'the same, saying what was released as JSON' },
  ],
  options: {
    session: { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
  },
} as const satisfies CommandSpec;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, command.options);
  const ctx = await openContext();
  const session = requireCurrentSession(ctx, values.session);
  const ended = await endSession(ctx, session);
  if (values.json) printJson(sessionJson(viewOf(ctx, ended.session)));
  else if (values.quiet) return 0;
  else print(`Ended session ${ctx.shortId(ended.session.id)} of ${ended.session.researcher}.`);
  return reportSharing(ended.shared);
}
