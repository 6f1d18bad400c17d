import { type Context, openContext } from '../context/context.js';
import { findCurrentSession } from '../context/current-session.js';
import { parse } from '../core/args.js';
import type { CommandSpec } from '../core/command.js';
import { colors, print, printJson, warn } from '../core/output.js';
import { withProgress } from '../core/progress.js';
import { foldedLine } from '../render/checkpoint.js';
import { list } from '../render/text.js';
import { foldCheckpoints } from '../services/checkpoint-fold.js';
import { inactiveHooks } from '../services/hooks-active.js';
import { type SessionBrief, type SyncReport, sync } from '../services/sync.js';

/** What `sync` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'sync',
  usage: ['sync [-r ID] [--remote R] [--rebase] [--quiet | --verbose | --json]'],
  summary: 'exchange coordination state with the remote; say what changed',
  details: `Fetches and pushes the coordination refs and notes, merges notes written on other machines,
fetches the default branch and reports what changed for you since the last sync: sessions
started and ended elsewhere, sessions merged, protocol files changed upstream, gate changes,
and, under "For you", pushes that went over your session or lease (who, why, which files),
forced leases that took your patterns, and handoffs whose next steps name you.
Marks sessions whose work the default branch contains as merged. An older copy of a session
record never overwrites a newer one. --rebase also rebases your session branch on the default
branch, leaving everything as it was if that conflicts (exit 1). Exits 3, changing nothing,
when the remote cannot be reached.`,
  examples: [
    {
      run: 'sync',
      says: 'exchange sessions, leases, gates and notes with the remote, and say what changed for you',
    },
    {
      run: 'sync --rebase',
      says: 'then rebase your session branch onto the default branch (or leave it as it was)',
    },
    { run: 'sync --json', says: 'the report as JSON' },
  ],
  options: {
    remote: { type: 'string' },
    rebase: { type: 'boolean' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
    verbose: { type: 'boolean', short: 'v' },
    researcher: { type: 'string', short: 'r' },
  },
} as const satisfies CommandSpec;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, command.options);
  const ctx = await openContext(undefined, { researcher: values.researcher });
  const unprotected = inactiveHooks(ctx);
  if (unprotected) warn(unprotected);
  // Emergency checkpoints written while git was down go into their session records first
  // (no network needed), so this sync shares them too.
  const folded = foldCheckpoints(ctx, currentOrNone(ctx)).folded;
  const report = await withProgress(
    `Syncing with ${values.remote ?? ctx.config.remote}`,
    () => sync(ctx, { remote: values.remote, rebase: !!values.rebase }),
    { quiet: !!values.json || !!values.quiet },
  );
  const code = report.rebase && report.rebase.status === 'conflict' ? 1 : 0;
  if (values.json) {
    printJson(folded.length ? { ...report, foldedCheckpoints: folded } : report);
    if (folded.length) warn(foldedLine(folded));
    return code;
  }
  // Quiet: only what went wrong (the warnings below) and a failed rebase.
  if (values.quiet) {
    if (report.rejected.length)
      warn(`Not shared yet (the remote kept moving): ${list(report.rejected)}. Run sync again.`);
    if (report.held.length) warn(heldLine(report.held.map((h) => h.ref)));
    for (const line of refusedLines(report)) warn(line);
    if (report.rebase && report.rebase.status !== 'rebased' && report.rebase.status !== 'up-to-date')
      warn(report.rebase.message);
    return code;
  }
  const c = colors();
  if (folded.length) print(foldedLine(folded));
  const who = (s: SessionBrief) =>
    `${s.researcher} ${ctx.shortId(s.id)} on ${s.host}${s.branch ? ` (${s.branch})` : ''}${s.intent ? `: ${s.intent}` : ''}`;
  print(
    `Synced with ${report.remote}: ${report.pushed.length ? `shared ${report.pushed.length} ref${report.pushed.length === 1 ? '' : 's'}` : 'nothing new to share'}${report.notesMerged ? ', notes merged' : ''}.`,
  );
  // Verbose: which refs went where, for someone who wants to see the exchange itself.
  if (values.verbose) for (const ref of report.pushed) print(`  ${c.dim('shared')}   ${ref}`);
  const { started, ended, merged } = report.sessions;
  for (const s of started) print(`  ${c.green('started')}  ${who(s)}`);
  for (const s of ended) print(`  ${c.dim('ended')}    ${who(s)}`);
  for (const s of merged) print(`  ${c.cyan('merged')}   ${who(s)}: its work is in ${report.defaultBranch}`);
  if (report.protocol.changed.length)
    print(
      c.yellow(
        `  Protocol files changed upstream on ${report.defaultBranch}: ${list(report.protocol.changed)}`,
      ),
    );
  for (const g of report.gates)
    print(
      `  gate ${c.bold(g.gate)} ${g.action === 'unlock' ? 'unlocked' : 'reopened'} by ${g.by}${g.forced ? ' (forced)' : ''}`,
    );
  // What concerns you that the lines above do not already say (sessions, gates, protocol files).
  const forYou = (report.forYou?.news ?? []).filter((a) => !['gate', 'protocol', 'session'].includes(a.kind));
  if (forYou.length) {
    print(c.bold(`  For you (${report.forYou!.researcher}):`));
    for (const a of forYou)
      print(`    ${a.kind === 'override' || a.kind === 'lease' ? c.yellow(a.message) : a.message}`);
  }
  if (
    !started.length &&
    !ended.length &&
    !merged.length &&
    !report.protocol.changed.length &&
    !report.gates.length &&
    !forYou.length
  )
    print('  Nothing changed for you since the last sync.');
  if (report.rejected.length)
    warn(`Not shared yet (the remote kept moving): ${list(report.rejected)}. Run sync again.`);
  if (report.diverged.length)
    warn(`Left alone (this copy and the remote's diverged): ${list(report.diverged)}.`);
  if (report.held.length) warn(heldLine(report.held.map((h) => h.ref)));
  for (const line of refusedLines(report)) warn(line);
  if (report.rebase) {
    const line = report.rebase.message;
    if (report.rebase.status === 'conflict' || report.rebase.status === 'refused') warn(line);
    else print(line);
  }
  return code;
}

/** The session to fold checkpoints into; a bad CONSORTIUM_SESSION must not stop a sync. */
function currentOrNone(ctx: Context) {
  try {
    return findCurrentSession(ctx, { quiet: true });
  } catch {
    return undefined;
  }
}

/** Records this version cannot read stay here: shared, every machine would trip over them. */
const heldLine = (refs: string[]) =>
  `Not shared, since this version cannot read them: ${list(refs)}. git consortium recover restores or sets them aside.`;

/** Refs the server's gate refused: they stay here, and each says why, as the server said it. */
const refusedLines = (report: SyncReport) =>
  report.refused.map((r) => `Refused by the server's gate, so it stays in this clone only: ${r.reason}`);
