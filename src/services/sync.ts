import { type GateNews, type SessionBrief, whatChanged } from '../analysis/news.js';
import type { Context } from '../context/context.js';
import { resolveIdentity } from '../context/identity.js';
import { iso, now } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { environmentError, usageError } from '../core/errors.js';
import { localStateFile, readJson, writeJson } from '../core/local-state.js';
import { matchesAny } from '../core/patterns.js';
import { phase, writePhases } from '../core/phases.js';
import { defaultBranch } from '../git/changes.js';
import { filesBetween } from '../git/history.js';
import { resolveRef } from '../git/refs.js';
import { readGateEvents } from '../store/gates.js';
import { mergeFetchedNotes } from '../store/notes.js';
import { fetchCoordination, hasRemote } from '../store/remote.js';
import { listSessions } from '../store/sessions.js';
import { archiveDue, dueForArchive } from './archive.js';
import { type Alert, newsFor } from './for-me.js';
import { settleOverrides } from './landing.js';
import { liveBranchRefspecs, refreshLineIndex } from './line-index.js';
import { markMergedSessions } from './merged.js';
import { type RebaseOutcome, rebaseMine } from './rebase.js';
import { offline, replicate } from './replicate.js';
import { authorFor, hostName } from './sessions.js';

/**
 * `sync` (SPEC section 6): brings the remote's coordination state here, replicates it both ways
 * (services/replicate.ts), marks sessions whose work the default branch contains as merged,
 * says what changed for me since the last sync (analysis/news.ts), and on request rebases the
 * current session's branch (services/rebase.ts).
 */
export type { SessionBrief } from '../analysis/news.js';

export interface SyncReport {
  remote: string;
  defaultBranch: string;
  /** Coordination refs the remote accepted from here. */
  pushed: string[];
  /** Refs still refused after every retry (another machine keeps moving them). */
  rejected: string[];
  /** Refs left alone because this copy and the remote's diverged in a way sync cannot merge. */
  diverged: string[];
  /** Local refs not shared: this version cannot read them (`recover` quarantines them). */
  held: { ref: string; reason: string }[];
  /** Local refs the server's gate refused, with what it said: they stay in this clone. */
  refused: { ref: string; reason: string }[];
  /** Finished sessions this sync moved to the archive (sessions.archiveAfter). */
  archived: string[];
  notesMerged: boolean;
  sessions: { started: SessionBrief[]; ended: SessionBrief[]; merged: SessionBrief[] };
  protocol: { changed: string[]; from: string | null; to: string | null };
  gates: GateNews[];
  /** What concerns the researcher running it since their last look (null: nobody known). */
  forYou: { researcher: string; news: Alert[] } | null;
  rebase: RebaseOutcome | null;
}

const sha = (ctx: Context, ref: string) => resolveRef(ctx.repo, ref);

export async function sync(ctx: Context, options: { remote?: string; rebase: boolean }): Promise<SyncReport> {
  try {
    return await syncOnce(ctx, options);
  } finally {
    writePhases('sync');
  }
}

async function syncOnce(ctx: Context, options: { remote?: string; rebase: boolean }): Promise<SyncReport> {
  const config: Config = options.remote ? { ...ctx.config, remote: options.remote } : ctx.config;
  if (options.remote !== undefined && !hasRemote(ctx.repo, options.remote))
    throw usageError(
      `There is no remote named ${JSON.stringify(options.remote)} here (git remote -v lists them).`,
    );
  if (!hasRemote(ctx.repo, config.remote))
    throw environmentError(
      `There is no remote named ${config.remote} to sync with. Add one (git remote add ${config.remote} URL) or set remote in the configuration.`,
    );
  const branch = defaultBranch(ctx.repo, config).name;
  const tracking = `refs/remotes/${config.remote}/${branch}`;

  // "What changed for me" is measured from the last sync here, else from what was known.
  const last = readLastSync(ctx);
  const before = new Map<string, string>(
    last ? Object.entries(last.sessions) : listSessions(ctx.repo).sessions.map((s) => [s.id, s.state]),
  );
  const gatesBefore = new Set(last?.gates ?? readGateEvents(ctx.repo).events.map((e) => e.id));
  const tipBefore = last?.tips[branch] ?? sha(ctx, tracking);

  // The live sessions' branches come in the same fetch, for the line index.
  const sessionBranches = options.remote ? [] : liveBranchRefspecs(ctx);
  phase('start');
  const fetched = await fetchCoordination(ctx.repo, config, undefined, [
    `+refs/heads/${branch}*:refs/remotes/${config.remote}/${branch}*`,
    ...sessionBranches,
  ]);
  if (!fetched.ok) throw offline(config, fetched);
  phase('fetch');
  // Who writes the merge commits (notes, sessions): known after the fetch, from fresh records.
  ctx.invalidate();
  const author = authorFor(ctx, resolveIdentity(ctx)?.id ?? 'git-consortium');

  const notesMerged = mergeFetchedNotes(ctx.repo, author);
  // Overrides whose push has landed (or has not) since: said in their notes before they are shared.
  await settleOverrides(ctx, author);
  markMergedSessions(ctx, {
    targets: sha(ctx, tracking) ? [tracking] : [`refs/heads/${branch}`],
    thisHostOnly: false,
    author,
  });
  phase('merge');
  const replication = await replicate(ctx, config, author);
  // Finished sessions past sessions.archiveAfter leave their refs for the archive (anyone's).
  const archived = dueForArchive(ctx, config.sessions.archiveAfterMs).length
    ? await archiveDue(ctx, {
        olderThanMs: config.sessions.archiveAfterMs,
        dryRun: false,
        config,
        maxBatches: 1,
      })
    : undefined;

  phase('archive');
  const after = listSessions(ctx.repo).sessions;
  const gateEvents = readGateEvents(ctx.repo).events;
  const news = whatChanged({ sessions: before, gates: gatesBefore }, after, gateEvents, hostName());
  const tipAfter = sha(ctx, tracking);
  // Told here, not again by the next orient: a sync is a look.
  const me = resolveIdentity(ctx)?.id;
  const forYou = me ? { researcher: me, news: newsFor(ctx, me, true) } : null;
  writeLastSync(ctx, {
    at: iso(now()),
    sessions: Object.fromEntries(after.map((s) => [s.id, s.state])),
    gates: gateEvents.map((e) => e.id),
    tips: { ...(last?.tips ?? {}), ...(tipAfter ? { [branch]: tipAfter } : {}) },
  });
  const report: SyncReport = {
    remote: config.remote,
    defaultBranch: branch,
    pushed: replication.pushed,
    rejected: replication.rejected,
    diverged: replication.diverged,
    held: replication.held,
    refused: replication.refused,
    archived: archived?.done ? archived.sessions.map((a) => a.id) : [],
    notesMerged: notesMerged || replication.notesMerged,
    sessions: news.sessions,
    protocol: {
      changed: protocolChanges(ctx, tipBefore, tipAfter),
      from: tipBefore ?? null,
      to: tipAfter ?? null,
    },
    gates: news.gates,
    forYou,
    rebase: null,
  };
  phase('report');
  if (!options.remote) await refreshLineIndex(ctx, sessionBranches);
  phase('line index');
  if (options.rebase) report.rebase = await rebaseMine(ctx, branch, tracking);
  return report;
}

function protocolChanges(ctx: Context, from: string | undefined, to: string | undefined): string[] {
  if (!from || !to || from === to || ctx.config.protocol.length === 0) return [];
  return filesBetween(ctx.repo, from, to).filter((f) => matchesAny(f, ctx.config.protocol));
}

/** What this clone knew at its last sync: the baseline of "what changed for me". */
interface LastSync {
  at: string;
  sessions: Record<string, string>;
  gates: string[];
  tips: Record<string, string>;
}

const lastSyncFile = (ctx: Context) => localStateFile(ctx.repo.commonDir, 'last-sync.json');

/** What the last sync here saw; none yet, or unreadable: measure from what is known. */
function readLastSync(ctx: Context): LastSync | undefined {
  const value = readJson<Partial<LastSync>>(lastSyncFile(ctx));
  return value &&
    typeof value.sessions === 'object' &&
    Array.isArray(value.gates) &&
    typeof value.tips === 'object'
    ? (value as LastSync)
    : undefined;
}

function writeLastSync(ctx: Context, value: LastSync): void {
  writeJson(lastSyncFile(ctx), value);
}
