import { openContext } from '../context/context.js';
import { parse, RESEARCHER_FLAG } from '../core/args.js';
import { durationArg } from '../core/duration.js';
import { colors, print, printJson, warn } from '../core/output.js';
import { type RecoverAction, recover } from '../services/recover.js';

const VERB: Record<RecoverAction['action'], [done: string, planned: string]> = {
  'end-session': ['Ended session', 'Would end session'],
  'release-leases': ['Released the leases of session', 'Would release the leases of session'],
  'remove-lock': ['Removed the stale lock', 'Would remove the stale lock'],
  'remove-file': ['Removed', 'Would remove'],
  'remove-temp-ref': ['Deleted the temporary ref', 'Would delete the temporary ref'],
  'prune-session': ['Pruned session', 'Would prune session'],
};

export async function run(argv: string[]): Promise<number> {
  const { values } = parse('recover', argv, {
    'dry-run': { type: 'boolean' },
    'older-than': { type: 'string' },
    prune: { type: 'string' },
    json: { type: 'boolean' },
    ...RESEARCHER_FLAG,
  });
  const olderThan =
    values['older-than'] === undefined ? undefined : durationArg('--older-than', values['older-than']);
  const pruneMs = values.prune === undefined ? undefined : durationArg('--prune', values.prune);
  const ctx = await openContext(undefined, { researcher: values.researcher });
  const report = await recover(ctx, {
    dryRun: !!values['dry-run'],
    olderThanMs: olderThan ?? ctx.config.sessions.staleAfterMs,
    pruneMs,
  });
  if (values.json) {
    printJson(report);
    return 0;
  }
  const c = colors();
  if (report.dryRun) print(c.bold('Dry run: nothing was changed.'));
  if (report.actions.length === 0) print('Nothing to recover.');
  for (const a of report.actions) {
    const [done, planned] = VERB[a.action];
    const verb = report.dryRun ? planned : a.done ? done : `Could not: ${planned.toLowerCase()}`;
    print(`${verb} ${a.target} (${a.reason})${a.problem ? `: ${a.problem}` : ''}.`);
  }
  if (report.offline)
    warn(`The remote could not be reached (${report.offline}); the changes are shared at the next sync.`);
  return 0;
}
