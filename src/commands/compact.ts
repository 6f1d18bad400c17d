import { openContext } from '../context/context.js';
import { requireCurrentSession } from '../context/current-session.js';
import { parse } from '../core/args.js';
import type { CommandSpec } from '../core/command.js';
import { refusal } from '../core/errors.js';
import { print, printJson } from '../core/output.js';
import { handoffJson } from '../render/json.js';
import { reportSharing } from '../render/sharing.js';
import { writeHandoff } from '../services/handoff.js';
import { endSession } from '../services/sessions.js';
import { readSummary } from './handoff.js';

/** What `compact` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'compact',
  usage: ['compact [--summary-file F | -] [--next TEXT]... [--session ID] [--json]'],
  summary: 'write the handoff, then end the session',
  details: `Writes the handoff of the current session (as handoff does), then ends it: what an agent's
compaction or the end of a day calls. The next start and orient show that handoff.`,
  examples: [
    {
      run: 'compact --next "rerun the loss sweep"',
      says: 'write a handoff before the conversation is compacted',
    },
    { run: 'compact --summary-file notes.md --json', says: 'the summary from a file, the result as JSON' },
  ],
  options: {
    'summary-file': { type: 'string' },
    next: { type: 'string', multiple: true },
    session: { type: 'string' },
    json: { type: 'boolean' },
  },
} as const satisfies CommandSpec;

/** "compact current session": the handoff the next session starts from, then the end. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(command.name, argv, command.options, [0, 1]);
  const summary = readSummary(values['summary-file'], positionals[0], 'compact');
  const ctx = await openContext();
  const session = requireCurrentSession(ctx, values.session);
  if (session.state !== 'active')
    throw refusal(`Session ${ctx.shortId(session.id)} has already ${session.state}.`);
  const written = await writeHandoff(ctx, session, { summary, next: values.next ?? [], ending: true });
  const ended = await endSession(ctx, written.session);
  if (values.json) {
    printJson({
      ...handoffJson(written.handoff),
      noted: written.noted,
      ended: ended.session.endedAt,
      state: ended.session.state,
      shared: ended.shared.ok,
    });
  } else {
    print(written.handoff.markdown.trimEnd());
    print('');
    print(
      `Handoff stored with session ${ctx.shortId(session.id)}; the session has ended. The next session starts from it.`,
    );
  }
  return reportSharing(ended.shared);
}
