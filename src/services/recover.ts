import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Context } from '../context/context.js';
import { resolveIdentity } from '../context/identity.js';
import { now } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { refExists, refShas } from '../git/refs.js';
import { realPath } from '../git/repo.js';
import { worktreePaths } from '../git/worktrees.js';
import { readLeaseTable } from '../store/leases.js';
import { deleteRef, readRecords } from '../store/records.js';
import { MIRRORED_SESSIONS, SESSIONS, sessionRef } from '../store/refs.js';
import { fetchCoordination, hasRemote, pushDeletions, pushRefs, STALE_LOCK_MS } from '../store/remote.js';
import type { Session } from '../store/sessions.js';
import { archiveDue, pruneArchive } from './archive.js';
import { releaseEnded } from './leases.js';
import { type Repair, repairLeaseTable, repairLocalRecords, repairRemoteRecords } from './repair.js';
import { hostName, markEnded } from './sessions.js';

/**
 * `recover` (SPEC section 6): puts right what crashed or abandoned work leaves behind: stale
 * and orphaned sessions (ended, their leases released), lock files of killed processes, the
 * old `.claude-session-*` files, records this version cannot read (services/repair.ts), and with --prune the records of long-finished sessions,
 * here and on the remote. Every action is reported; --dry-run only reports.
 */
export interface RecoverOptions {
  dryRun: boolean;
  /** A session with no heartbeat for this long is ended (default sessions.staleAfter). */
  olderThanMs: number;
  /** Ended and merged sessions finished longer ago than this are deleted. */
  pruneMs?: number;
  /** Ended and merged sessions finished longer ago than this move to the archive. */
  archiveAfterMs: number;
}

export interface RecoverAction {
  action:
    | 'end-session'
    | 'release-leases'
    | 'remove-lock'
    | 'remove-file'
    | 'remove-temp-ref'
    | 'prune-session'
    | 'archive-session'
    | Repair['action'];
  target: string;
  reason: string;
  /** False in a dry run, or when it could not be done (see `problem`). */
  done: boolean;
  /** Where the bytes of a record set aside are kept (refs/consortium-quarantine/...). */
  kept?: string;
  problem?: string;
}

export interface RecoverReport {
  dryRun: boolean;
  actions: RecoverAction[];
  /** The remote could not be reached: what needs it waits for the next sync. */
  offline: string | null;
}

export async function recover(ctx: Context, options: RecoverOptions): Promise<RecoverReport> {
  const actions: RecoverAction[] = [];
  // Locks first: a stale lock makes every later write of its ref fail, the fetch's included.
  actions.push(...staleLocks(ctx, options.dryRun));
  actions.push(...tempRefs(ctx, options.dryRun));
  actions.push(...oldSessionFiles(ctx, options));
  let offline: string | null = null;
  const remoteKnown = hasRemote(ctx.repo, ctx.config.remote);
  if (remoteKnown) {
    const fetched = await fetchCoordination(ctx.repo, ctx.config);
    if (!fetched.ok) offline = fetched.detail;
  }
  // Records this version cannot read: put right before anything reads the sessions.
  actions.push(...repairLocalRecords(ctx, options.dryRun));
  if (remoteKnown && !offline) {
    actions.push(...(await repairRemoteRecords(ctx, options.dryRun)));
    const table = await repairLeaseTable(ctx, options.dryRun);
    if (table) actions.push(table);
  }
  ctx.invalidate();

  const me = resolveIdentity(ctx)?.id;
  const ended: Session[] = [];
  const leased = new Set(readLeaseTable(ctx.repo).table.leases.map((l) => l.session));
  for (const { session, reason } of abandoned(ctx, options.olderThanMs)) {
    const action: RecoverAction = { action: 'end-session', target: session.id, reason, done: false };
    actions.push(action);
    if (!options.dryRun) {
      const result = markEnded(ctx, session, { by: me ?? null, reason });
      action.done = result?.state === 'ended';
      if (action.done) ended.push(session);
    }
    if (leased.has(session.id))
      actions.push({
        action: 'release-leases',
        target: session.id,
        reason: `its session ${options.dryRun ? 'would be' : 'was'} ended`,
        done: false,
      });
  }
  ctx.invalidate();
  if (ended.length && remoteKnown && !offline) {
    const pushed = await pushRefs(
      ctx.repo,
      ctx.config,
      ended.map((s) => sessionRef(s.id)),
    );
    if (!pushed.outcome.ok) offline = pushed.outcome.detail;
  }
  for (const action of actions.filter((a) => a.action === 'release-leases')) {
    if (options.dryRun) continue;
    const session = ended.find((s) => s.id === action.target);
    if (!session) continue;
    // Once ended, its leases no longer count anywhere; releasing cleans the table too.
    const released = offline ? undefined : await releaseEnded(ctx, session);
    action.done = true;
    if (!released)
      action.problem = 'the lease table is cleaned at the next lease change; the leases no longer count';
  }
  // Archiving needs the remote's word (compare-and-swap there), when there is a remote.
  if (!(remoteKnown && offline)) {
    const archived = await archiveDue(ctx, {
      olderThanMs: options.archiveAfterMs,
      dryRun: options.dryRun,
    });
    for (const s of archived.sessions)
      actions.push({
        action: 'archive-session',
        target: s.id,
        reason: s.reason,
        done: archived.done,
        ...(archived.problem ? { problem: archived.problem } : {}),
      });
  }
  if (options.pruneMs !== undefined) {
    actions.push(...(await prune(ctx, options, remoteKnown, offline)));
    if (!(remoteKnown && offline)) {
      const pruned = await pruneArchive(ctx, options.pruneMs, options.dryRun);
      for (const s of pruned.sessions)
        actions.push({
          action: 'prune-session',
          target: s.id,
          reason: s.reason,
          done: pruned.done,
          ...(pruned.problem ? { problem: pruned.problem } : {}),
        });
    }
  }
  return { dryRun: options.dryRun, actions, offline };
}

/** Active sessions nobody is working in any more: stale, or whose worktree or branch is gone here. */
function abandoned(ctx: Context, olderThanMs: number): { session: Session; reason: string }[] {
  const host = hostName();
  const found: { session: Session; reason: string }[] = [];
  let worktrees: Set<string> | undefined;
  for (const session of ctx.sessions().sessions) {
    if (session.state !== 'active') continue;
    const silent = ctx.nowMs - Date.parse(session.heartbeatAt);
    if (silent > olderThanMs) {
      found.push({ session, reason: `no heartbeat for ${formatDuration(silent)}` });
      continue;
    }
    if (session.host !== host) continue;
    if (!existsSync(session.worktree)) {
      found.push({ session, reason: `its worktree ${session.worktree} is gone` });
      continue;
    }
    // Another clone on this machine keeps its branches in its own repository: only a session of
    // one of our worktrees can be judged by our branches, and a branch still on the remote is not gone.
    worktrees ??= worktreesOf(ctx);
    if (!session.branch || !worktrees.has(session.worktree)) continue;
    const refs = [`refs/heads/${session.branch}`, `refs/remotes/${ctx.config.remote}/${session.branch}`];
    if (refs.every((ref) => !refExists(ctx.repo, ref)))
      found.push({ session, reason: `its branch ${session.branch} is gone` });
  }
  return found;
}

/** The real paths of this repository's worktrees. */
function worktreesOf(ctx: Context): Set<string> {
  return new Set(worktreePaths(ctx.repo).map(realPath));
}

/** Lock files of killed processes under the toolkit's own refs. */
function staleLocks(ctx: Context, dryRun: boolean): RecoverAction[] {
  const actions: RecoverAction[] = [];
  const roots = ['refs/consortium', 'refs/consortium-remote', 'refs/notes'].map((r) =>
    path.join(ctx.repo.commonDir, r),
  );
  const limit = now().getTime() - STALE_LOCK_MS;
  const visit = (dir: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.name.endsWith('.lock')) {
        const rel = path.relative(ctx.repo.commonDir, full).split(path.sep).join('/');
        if (rel.startsWith('refs/notes/') && !rel.startsWith('refs/notes/consortium')) continue;
        const age = ageOf(full);
        if (age === undefined || age > limit) continue;
        actions.push(remove(full, rel, 'remove-lock', `a lock left by a process that is gone`, dryRun));
      }
    }
  };
  for (const root of roots) visit(root);
  // packed-refs holds the toolkit's refs too: a stale lock on it stops every ref deletion.
  const packed = path.join(ctx.repo.commonDir, 'packed-refs.lock');
  const age = ageOf(packed);
  if (age !== undefined && age <= limit)
    actions.push(
      remove(packed, 'packed-refs.lock', 'remove-lock', 'a lock left by a process that is gone', dryRun),
    );
  return actions;
}

/** Temporary notes refs (refs/notes/consortium-tmp-<pid>-...) of processes that are gone. */
function tempRefs(ctx: Context, dryRun: boolean): RecoverAction[] {
  const actions: RecoverAction[] = [];
  for (const [ref, sha] of refShas(ctx.repo, ['refs/notes/'])) {
    const pid = /^refs\/notes\/consortium-tmp-(\d+)-[0-9a-f]+$/.exec(ref ?? '')?.[1];
    if (!ref || !sha || !pid || alive(Number(pid))) continue;
    const action: RecoverAction = {
      action: 'remove-temp-ref',
      target: ref,
      reason: `a temporary ref of process ${pid}, which is gone`,
      done: false,
    };
    if (!dryRun) action.done = deleteRef(ctx.repo, ref, sha);
    actions.push(action);
  }
  return actions;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The consortium's old `.claude-session-*` lock files, at the top of every worktree of this
 * repository and in every workspace folder, once older than the staleness limit.
 */
function oldSessionFiles(ctx: Context, options: RecoverOptions): RecoverAction[] {
  const worktrees = worktreePaths(ctx.repo);
  const folders = new Set<string>();
  for (const top of worktrees) {
    folders.add(top);
    for (const r of ctx.researchers.values()) folders.add(path.join(top, r.workspace));
  }
  const limit = now().getTime() - options.olderThanMs;
  const actions: RecoverAction[] = [];
  for (const folder of folders) {
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!name.startsWith('.claude-session-')) continue;
      const full = path.join(folder, name);
      const age = ageOf(full);
      if (age === undefined || age > limit) continue;
      actions.push(
        remove(full, full, 'remove-file', 'a leftover lock file of the old session scripts', options.dryRun),
      );
    }
  }
  return actions;
}

function ageOf(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function remove(
  full: string,
  target: string,
  action: RecoverAction['action'],
  reason: string,
  dryRun: boolean,
): RecoverAction {
  const result: RecoverAction = { action, target, reason, done: false };
  if (dryRun) return result;
  try {
    rmSync(full, { recursive: true, force: true });
    result.done = true;
  } catch (error) {
    result.problem = (error as Error).message;
  }
  return result;
}

/**
 * Deletes ended and merged sessions finished longer ago than --prune, on the remote first
 * (each only if it still holds what was fetched), then here, so refs do not grow without bound.
 */
async function prune(
  ctx: Context,
  options: RecoverOptions,
  remoteKnown: boolean,
  offline: string | null,
): Promise<RecoverAction[]> {
  const limit = ctx.nowMs - options.pruneMs!;
  const old = ctx
    .sessions()
    .sessions.filter((s) => s.state !== 'active' && Date.parse(s.endedAt ?? s.heartbeatAt) < limit);
  if (old.length === 0) return [];
  const actions = old.map(
    (s): RecoverAction => ({
      action: 'prune-session',
      target: s.id,
      reason: `${s.state} ${formatDuration(ctx.nowMs - Date.parse(s.endedAt ?? s.heartbeatAt))} ago`,
      done: false,
    }),
  );
  if (options.dryRun) return actions;
  if (remoteKnown && offline) {
    for (const a of actions) a.problem = `the remote cannot be reached (${offline}); nothing was pruned`;
    return actions;
  }
  const ids = new Set(old.map((s) => s.id));
  const { records } = readRecords(ctx.repo, [SESSIONS, MIRRORED_SESSIONS]);
  const local = new Map<string, string>();
  const mirrored = new Map<string, string>();
  for (const r of records) {
    const id = r.ref.slice((r.ref.startsWith(SESSIONS) ? SESSIONS : MIRRORED_SESSIONS).length);
    if (!ids.has(id)) continue;
    (r.ref.startsWith(SESSIONS) ? local : mirrored).set(id, r.commit);
  }
  let deletedRemote = new Set<string>();
  if (remoteKnown) {
    const result = await pushDeletions(
      ctx.repo,
      ctx.config,
      new Map([...mirrored].map(([id, sha]) => [sessionRef(id), sha])),
    );
    if (!result.outcome.ok) {
      for (const a of actions)
        a.problem = `the remote cannot be reached (${result.outcome.detail}); nothing was pruned`;
      return actions;
    }
    deletedRemote = new Set(result.deleted);
  }
  for (const action of actions) {
    const id = action.target;
    const ref = sessionRef(id);
    if (mirrored.has(id) && !deletedRemote.has(ref)) {
      action.problem = 'the remote copy changed since it was fetched; left for the next recover';
      continue;
    }
    const gone =
      (!local.has(id) || deleteRef(ctx.repo, ref, local.get(id)!)) &&
      (!mirrored.has(id) || deleteRef(ctx.repo, MIRRORED_SESSIONS + id, mirrored.get(id)!));
    action.done = gone;
  }
  return actions;
}
