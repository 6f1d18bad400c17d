import { openContext } from '../context/context.js';
import { parse } from '../core/args.js';
import type { CommandSpec } from '../core/command.js';
import { durationArg } from '../core/duration.js';
import { colors, print, printJson, warn } from '../core/output.js';
import { type RecoverAction, recover } from '../services/recover.js';

/** What `recover` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'recover',
  usage: ['recover [-r ID] [--dry-run] [--older-than D] [--prune D] [--json]'],
  summary: 'end stale and orphaned sessions, clear leftover locks',
  details: `Ends sessions with no heartbeat for D (default sessions.staleAfter) and sessions of this
machine whose worktree or branch is gone, releases their leases, removes lock files that killed
processes left under the toolkit's refs and the old .claude-session-* files, and reports each
thing it did. A record this version cannot read (hand-edited, corrupt, or of a newer release) is
restored from the remote's copy when that one reads, or else set aside; its bytes are kept under
refs/consortium-quarantine/ for a person to look at. An unreadable lease table on the remote is
replaced, keeping the leases it holds. Ended and merged sessions finished more than
sessions.archiveAfter ago (default 7d) move to the archive: their refs go, here and on the
remote, and audit still lists them with their whole history. --prune D also deletes ended and
merged sessions finished more than D ago, here and on the remote, archived ones included, with
their history. --dry-run reports and changes nothing.`,
  examples: [
    { run: 'recover --dry-run', says: 'what would be cleaned up, changing nothing' },
    {
      run: 'recover --older-than 2d --prune 30d',
      says: 'end sessions silent for two days; delete those finished thirty days ago',
    },
  ],
  options: {
    'dry-run': { type: 'boolean' },
    'older-than': { type: 'string' },
    prune: { type: 'string' },
    json: { type: 'boolean' },
    researcher: { type: 'string', short: 'r' },
  },
} as const satisfies CommandSpec;

const VERB: Record<RecoverAction['action'], [done: string, planned: string]> = {
  'end-session': ['Ended session', 'Would end session'],
  'release-leases': ['Released the leases of session', 'Would release the leases of session'],
  'remove-lock': ['Removed the stale lock', 'Would remove the stale lock'],
  'remove-file': ['Removed', 'Would remove'],
  'remove-temp-ref': ['Deleted the temporary ref', 'Would delete the temporary ref'],
  'prune-session': ['Pruned session', 'Would prune session'],
  'archive-session': ['Archived session', 'Would archive session'],
  'restore-record': ["Restored from the remote's copy", "Would restore from the remote's copy"],
  'quarantine-record': ['Set aside the unreadable record', 'Would set aside the unreadable record'],
  'repair-remote-record': ['Replaced with the copy here', 'Would replace with the copy here'],
  'repair-lease-table': [
    'Replaced the unreadable lease table, keeping its leases,',
    'Would replace the unreadable lease table, keeping its leases,',
  ],
};

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, command.options);
  const olderThan =
    values['older-than'] === undefined ? undefined : durationArg('--older-than', values['older-than']);
  const pruneMs = values.prune === undefined ? undefined : durationArg('--prune', values.prune);
  const ctx = await openContext(undefined, { researcher: values.researcher });
  const report = await recover(ctx, {
    dryRun: !!values['dry-run'],
    olderThanMs: olderThan ?? ctx.config.sessions.staleAfterMs,
    pruneMs,
    archiveAfterMs: ctx.config.sessions.archiveAfterMs,
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
    const kept = a.kept ? `; its bytes ${report.dryRun ? 'would be' : 'are'} kept in ${a.kept}` : '';
    print(`${verb} ${a.target} (${a.reason})${a.problem ? `: ${a.problem}` : kept}.`);
  }
  if (report.offline)
    warn(`The remote could not be reached (${report.offline}); the changes are shared at the next sync.`);
  return 0;
}
