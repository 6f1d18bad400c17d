import type { Context } from '../context/context.js';
import type { Config } from '../core/config.js';
import { formatDuration } from '../core/duration.js';
import { isAncestor, refShas, updateRefs } from '../git/refs.js';
import { pushDeletes } from '../git/remote.js';
import {
  ARCHIVE_REF,
  type ArchivedSession,
  pushArchive,
  readArchive,
  readFetchedArchive,
  writeArchive,
} from '../store/archive.js';
import { backoff, compareAndSwap, deleteRef, ZERO } from '../store/records.js';
import { MIRRORED_SESSIONS, SESSIONS, sessionRef } from '../store/refs.js';
import { fetchCoordination, hasRemote, PUSH_TIMEOUT_MS } from '../store/remote.js';
import type { Session } from '../store/sessions.js';
import { authorFor } from './sessions.js';

/**
 * Archiving (SPEC section 5): ended and merged sessions finished longer ago than
 * sessions.archiveAfter leave their own refs for the archive (store/archive.ts), here and on
 * the remote, in one atomic compare-and-swap push; their history stays for `audit`. Anyone may
 * archive anyone's finished sessions: nothing of them is lost, and a session changed meanwhile
 * (revived, merged elsewhere) makes the push fail as a whole, to be computed again.
 */
const ATTEMPTS = 4;
/** Sessions archived by one push (each deletion is two arguments of about 160 bytes). */
const BATCH = 500;
/** Reservations of the archived sessions' branch names, on the remote only (services/sessions.ts). */
const RESERVED = 'refs/consortium-reserved/';

export interface Archived {
  /** Sessions due (a dry run) or archived. */
  sessions: { id: string; reason: string }[];
  done: boolean;
  problem?: string;
}

const finishedAt = (s: Pick<Session, 'endedAt' | 'heartbeatAt'>) => Date.parse(s.endedAt ?? s.heartbeatAt);

/** Finished sessions whose end is older than `olderThanMs`. */
export function dueForArchive(ctx: Context, olderThanMs: number): Session[] {
  const limit = ctx.nowMs - olderThanMs;
  return ctx.sessions().sessions.filter((s) => s.state !== 'active' && finishedAt(s) < limit);
}

const entryOf = (s: Session): ArchivedSession => ({
  id: s.id,
  researcher: s.researcher,
  branch: s.branch,
  state: s.state === 'merged' ? 'merged' : 'ended',
  startedAt: s.startedAt,
  endedAt: s.endedAt,
  heartbeatAt: s.heartbeatAt,
  intent: s.intent,
  host: s.host,
  commit: s.commit,
});

/**
 * Archives what is due. With the remote known, the remote decides (its archive and the
 * session refs, compare-and-swap, all or nothing); without one, the archive is this clone's.
 */
export async function archiveDue(
  ctx: Context,
  /** `maxBatches`: sync archives one batch and leaves a backlog to the next one, or to recover. */
  options: { olderThanMs: number; dryRun: boolean; config?: Config; maxBatches?: number },
): Promise<Archived> {
  const config = options.config ?? ctx.config;
  const remote = hasRemote(ctx.repo, config.remote);
  const author = authorFor(ctx, 'git-consortium');
  let due: Session[] = [];
  const done: Session[] = [];
  let batches = 0;
  let lastRefusal = '';
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (attempt > 0) {
      backoff(attempt + 2);
      const again = await fetchCoordination(ctx.repo, config);
      if (!again.ok) return report(due, options, false, `the remote cannot be reached (${again.detail})`);
      ctx.invalidate();
    }
    due = dueForArchive(ctx, options.olderThanMs);
    if (options.dryRun) return report(due, options, false);
    if (due.length === 0) return report(done, options, done.length > 0);
    const shas = refShas(ctx.repo, [SESSIONS, MIRRORED_SESSIONS]);
    // Only a session whose newest copy contains the other: two that diverged are sync's to merge.
    const ready = due.filter((s) => {
      const local = shas.get(sessionRef(s.id));
      const mirror = shas.get(MIRRORED_SESSIONS + s.id);
      const other = s.source === 'local' ? mirror : local;
      return !other || other === s.commit || isAncestor(ctx.repo, other, s.commit);
    });
    if (ready.length === 0)
      return report(due, options, false, 'their copies here and on the remote diverged');
    // One push names every ref it deletes on git's command line: a backlog goes in batches.
    ready.splice(BATCH);
    const base = remote ? readFetchedArchive(ctx.repo) : readArchive(ctx.repo, [ARCHIVE_REF]);
    const { commit } = writeArchive(ctx.repo, base, ready.map(entryOf), author);
    if (remote) {
      const deletions = new Map<string, string>();
      for (const s of ready) {
        const mirror = shas.get(MIRRORED_SESSIONS + s.id);
        if (mirror) deletions.set(sessionRef(s.id), mirror);
      }
      // Each deletion costs client and server a pass over the remote's refs (about 22 ms each
      // with 10,000 refs there, on a 2-core machine at rest: a batch of 500 took 11 s): the
      // bound grows with the batch, with room for a machine under load.
      const timeoutMs = PUSH_TIMEOUT_MS + 60 * deletions.size;
      const pushed = await pushArchive(ctx.repo, config, commit, base.commit, deletions, timeoutMs);
      if (!pushed.ok && pushed.reason !== 'moved')
        return report(ready, options, false, `the remote cannot be reached (${pushed.detail})`);
      if (!pushed.ok) {
        lastRefusal = pushed.detail;
        continue;
      }
      await forgetReservations(ctx, config, ready);
    } else if (!compareAndSwap(ctx.repo, ARCHIVE_REF, commit, base.commit ?? ZERO)) continue;
    forgetArchived(ctx, ready, shas);
    ctx.invalidate();
    done.push(...ready);
    if (due.length <= BATCH || ++batches >= (options.maxBatches ?? Number.POSITIVE_INFINITY))
      return report(done, options, true);
    attempt = -1;
  }
  return report(
    done.length ? done : due,
    options,
    done.length > 0,
    `the remote kept refusing (${lastRefusal || 'it kept changing'}); the rest is left for the next recover or sync`,
  );
}

function report(
  sessions: Session[],
  options: { olderThanMs: number },
  done: boolean,
  problem?: string,
): Archived {
  return {
    sessions: sessions.map((s) => ({
      id: s.id,
      reason: `${s.state} more than ${formatDuration(options.olderThanMs)} ago`,
    })),
    done,
    ...(problem ? { problem } : {}),
  };
}

/** The archived sessions' refs here and their mirrors: each only if it still holds what was archived. */
function forgetArchived(ctx: Context, archived: Session[], shas: Map<string, string>) {
  const lines: string[] = [];
  for (const s of archived)
    for (const ref of [sessionRef(s.id), MIRRORED_SESSIONS + s.id]) {
      const sha = shas.get(ref);
      if (sha) lines.push(`delete ${ref} ${sha}\n`);
    }
  // All at once; should one have moved (a process of this clone wrote it), each on its own.
  if (updateRefs(ctx.repo, lines)) return;
  for (const line of lines) updateRefs(ctx.repo, [line]);
}

/** Branch-name reservations of archived sessions: names with an old time in them, free to go. */
async function forgetReservations(ctx: Context, config: Config, archived: Session[]) {
  const refs = archived
    .map((s) => s.branch)
    .filter(
      (b): b is string => !!b && /^[A-Za-z0-9._/-]+$/.test(b) && !b.includes('..') && !b.startsWith('-'),
    )
    .map((b) => `${RESERVED}${b}`);
  if (refs.length) await pushDeletes(ctx.repo, config.remote, refs, 3000);
}

/**
 * Local session refs the archive already holds (at the same record, or a later one): an older
 * clone's copy, or one this clone never saw deleted. Deleted rather than pushed back.
 */
export function archivedHere(ctx: Context, localOnly: Map<string, string>): string[] {
  if (localOnly.size === 0) return [];
  const { sessions: archived } = readArchive(ctx.repo);
  if (archived.length === 0) return [];
  const byId = new Map(archived.map((s) => [s.id, s]));
  const gone: string[] = [];
  for (const [id, sha] of localOnly) {
    const entry = byId.get(id);
    if (!entry || !(entry.commit === sha || isAncestor(ctx.repo, sha, entry.commit))) continue;
    if (deleteRef(ctx.repo, sessionRef(id), sha)) gone.push(id);
  }
  return gone;
}

/**
 * `recover --prune D` for the archive: entries finished more than D ago leave it, and with a
 * new chain (without the previous archive as parent) their history becomes unreachable, so
 * git's gc may reclaim it, here and on the remote.
 */
export async function pruneArchive(ctx: Context, pruneMs: number, dryRun: boolean): Promise<Archived> {
  const remote = hasRemote(ctx.repo, ctx.config.remote);
  const limit = ctx.nowMs - pruneMs;
  let old: ArchivedSession[] = [];
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (attempt > 0) {
      backoff(attempt + 2);
      const again = await fetchCoordination(ctx.repo, ctx.config);
      if (!again.ok) break;
    }
    const base = remote ? readFetchedArchive(ctx.repo) : readArchive(ctx.repo, [ARCHIVE_REF]);
    old = base.sessions.filter((s) => finishedAt(s) < limit);
    const listed = old.map((s) => ({
      id: s.id,
      reason: `archived, ${s.state} ${formatDuration(ctx.nowMs - finishedAt(s))} ago`,
    }));
    if (old.length === 0 || dryRun) return { sessions: listed, done: false };
    const { commit } = writeArchive(ctx.repo, base, [], authorFor(ctx, 'git-consortium'), {
      drop: new Set(old.map((s) => s.id)),
      keepHistory: false,
    });
    if (!remote) {
      if (compareAndSwap(ctx.repo, ARCHIVE_REF, commit, base.commit ?? ZERO))
        return { sessions: listed, done: true };
      continue;
    }
    const pushed = await pushArchive(ctx.repo, ctx.config, commit, base.commit, new Map());
    if (pushed.ok) return { sessions: listed, done: true };
    if (pushed.reason !== 'moved')
      return { sessions: listed, done: false, problem: `the remote cannot be reached (${pushed.detail})` };
  }
  return {
    sessions: old.map((s) => ({ id: s.id, reason: `archived, ${s.state}` })),
    done: false,
    problem: 'the remote kept changing; left for the next recover',
  };
}
