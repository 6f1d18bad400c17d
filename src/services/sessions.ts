import { existsSync, readdirSync, statSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import path from 'node:path';
import { isLive } from '../analysis/state.js';
import type { Context } from '../context/context.js';
import { sessionBranchName } from '../core/branches.js';
import { iso, now } from '../core/clock.js';
import { refusal, usageError } from '../core/errors.js';
import { branchStamp, newSessionId, randomHex, shown } from '../core/ids.js';
import { changedFiles, defaultBranch, headCommit } from '../git/changes.js';
import { refExists, resolveRef } from '../git/refs.js';
import { pushLeased } from '../git/remote.js';
import { currentBranch, realPath } from '../git/repo.js';
import { addWorktree, checkoutBranch, deleteBranch, worktreePaths } from '../git/worktrees.js';
import { type Author, writeRecordCommit } from '../store/records.js';
import { sessionRef } from '../store/refs.js';
import {
  fetchRefspecs,
  hasRemote,
  type NetworkOutcome,
  pushRefs,
  sharedOutcome,
  shareInBackground,
} from '../store/remote.js';
import {
  type Agent,
  createSession,
  type Session,
  type SessionRecord,
  updateSession,
} from '../store/sessions.js';

/**
 * The session lifecycle, shared by every entry point (commands, git hooks, Claude Code hooks,
 * the MCP server): start, refresh, end.
 */
export function authorFor(ctx: Context, researcher: string): Author {
  return {
    name: researcher,
    email: ctx.userEmail ?? `${researcher}@consortium.invalid`,
  };
}

export interface StartOptions {
  researcher: string;
  intent?: string;
  /** 'new': a fresh session branch; 'current': stay on the checked-out branch; or a branch name. */
  branch: 'new' | 'current' | { name: string };
  shared: boolean;
  agent: Agent;
  /** Start in a new linked worktree at this path ('' for the default, beside the main worktree). */
  worktree?: string;
  /** Where a new branch starts (a revision); by default the remote's default branch. */
  from?: string;
  /**
   * 'wait' (default): push the record now, bounded in time. 'background': hand it to a
   * detached share, for the git hooks that register sessions and must not wait on the network.
   * 'caller': the caller shares it, with other work of its own, in one detached process.
   */
  share?: 'wait' | 'background' | 'caller';
  /** The commit checked out, when the caller already knows it (post-checkout is told by git). */
  head?: string;
}

export interface Started {
  session: Session;
  shared: NetworkOutcome;
}

/** Live sessions bound to this worktree and branch. */
export function sessionsOn(ctx: Context, worktree: string, branch: string | null): Session[] {
  return ctx
    .sessions()
    .sessions.filter(
      (s) =>
        s.worktree === worktree &&
        s.branch === branch &&
        isLive(s, ctx.nowMs, ctx.config.sessions.staleAfterMs),
    );
}

export async function startSession(ctx: Context, options: StartOptions): Promise<Started> {
  const stamp = now();
  let worktree = ctx.repo.top;
  let branch = ctx.branch ?? null;
  const others = sessionsOn(ctx, worktree, branch);
  const switching = options.worktree === undefined && options.branch !== 'current';
  if (others.length && !options.shared && (switching || options.branch === 'current')) {
    const other = others[0]!;
    throw refusal(
      `Session ${other.id} of ${other.researcher} is active on this worktree and branch ${branch ?? '(detached HEAD)'}` +
        `${switching ? ': starting here would switch the branch under it' : ''}. ` +
        'Use --worktree to work in a worktree of your own, or --shared to share this one on purpose.',
    );
  }
  const env = { CONSORTIUM_STARTING: '1' };
  // A folder given for the worktree is checked first: bad input reserves and changes nothing.
  const given = options.worktree ? path.resolve(ctx.repo.cwd, options.worktree) : undefined;
  if (given) refuseUsedFolder(given);
  // A new session branch: where it starts, then its name, reserved on the remote.
  const fresh = options.branch === 'new' ? await startPoint(ctx, options.from) : undefined;
  const freshName = fresh && (await freshBranchName(ctx, options.researcher, stamp, fresh));
  if (options.worktree !== undefined) {
    const name =
      options.branch === 'new'
        ? freshName
        : typeof options.branch === 'object'
          ? options.branch.name
          : undefined;
    if (!name) throw usageError('--worktree needs a branch of its own: leave out --no-branch.');
    // A path given is read from here, as git reads it; the default lies beside the main
    // worktree, never inside the repository (where it would look like a workspace).
    const main = worktreePaths(ctx.repo)[0] ?? ctx.repo.top;
    const target =
      given ?? path.join(path.dirname(main), `${path.basename(main)}-${name.replace(/\//g, '-')}`);
    if (!given) refuseUsedFolder(target);
    const exists = refExists(ctx.repo, `refs/heads/${name}`);
    const start = exists ? undefined : (fresh ?? (await startPoint(ctx, options.from))).commit;
    const result = await addWorktree(ctx.repo, target, name, { create: !exists, start, env });
    if (result.status !== 0) {
      // git may have created the branch before failing on the folder: bad input changes nothing.
      if (!exists) await deleteBranch(ctx.repo, name);
      throw refusal(`Could not create the worktree ${target}: ${firstLine(result.stderr)}`);
    }
    worktree = realPath(target);
    branch = name;
  } else if (options.branch !== 'current') {
    const name = options.branch === 'new' ? freshName! : options.branch.name;
    const exists = refExists(ctx.repo, `refs/heads/${name}`);
    const start = exists ? undefined : (fresh ?? (await startPoint(ctx, options.from))).commit;
    const result = await checkoutBranch(ctx.repo.top, name, { create: !exists, start, env });
    if (result.status !== 0) throw refusal(`Could not check out ${shown(name)}: ${firstLine(result.stderr)}`);
    branch = currentBranch(ctx.repo) ?? name;
  }
  const head =
    (options.worktree === undefined && options.branch === 'current' ? options.head : undefined) ??
    headCommit(ctx.repo, worktree) ??
    null;
  const time = iso(stamp);
  const session = createSession(
    ctx.repo,
    {
      id: newSessionId(stamp),
      researcher: options.researcher,
      branch,
      worktree,
      host: hostName(),
      user: userName(),
      email: ctx.userEmail ?? null,
      agent: options.agent,
      intent: options.intent ?? '',
      shared: options.shared,
      startedAt: time,
      startCommit: head,
      heartbeatAt: time,
      endedAt: null,
      state: 'active',
      head,
      changedFiles: [],
      touchedFiles: [],
    },
    authorFor(ctx, options.researcher),
  );
  ctx.invalidate();
  if (options.share === 'background' || options.share === 'caller') {
    if (options.share === 'background') shareInBackground(ctx.repo, [sessionRef(session.id)]);
    return { session, shared: { ok: true } };
  }
  const pushed = await pushRefs(ctx.repo, ctx.config, [sessionRef(session.id)]);
  return { session, shared: sharedOutcome(pushed) };
}

/** A worktree goes into a new folder, or an empty one. */
function refuseUsedFolder(target: string): void {
  if (existsSync(target) && (!statSync(target).isDirectory() || readdirSync(target).length > 0))
    throw usageError(`${target} already exists: give --worktree a new folder (or an empty one).`);
}

/**
 * A new session branch's name, `<prefix><researcher>-<yyyymmdd-hhmmss>` (SPEC section 5). No
 * two sessions may share a branch, even started in one second on two machines: the name is
 * reserved on the remote, which decides (a create-only ref under refs/consortium-reserved/,
 * outside what the coordination fetches). Taken, here or there, it gets a `-<suffix>` of four
 * lowercase letters or digits; with the remote out of reach, it gets one anyway, which makes a
 * collision negligible.
 */
async function freshBranchName(
  ctx: Context,
  researcher: string,
  stamp: Date,
  start: StartPoint,
): Promise<string> {
  const name = sessionBranchName(ctx.config.sessions.branchPrefix, researcher, branchStamp(stamp));
  const taken = (n: string) =>
    refExists(ctx.repo, `refs/heads/${n}`) || refExists(ctx.repo, `refs/remotes/${ctx.config.remote}/${n}`);
  const suffixed = () => {
    for (;;) {
      const n = `${name}-${Number.parseInt(randomHex(3), 16).toString(36).padStart(4, '0').slice(-4)}`;
      if (!taken(n)) return n;
    }
  };
  let candidate = taken(name) ? suffixed() : name;
  // Out of reach: the suffix makes a collision negligible. No remote at all: nothing to collide with.
  if (start.reachable === false) return candidate === name ? suffixed() : candidate;
  if (!start.commit || !hasRemote(ctx.repo, ctx.config.remote)) return candidate;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dst = `${RESERVED}${candidate}`;
    // A reservation of its own (a record commit naming it): pushing an object the remote already
    // has under that name would read as "up to date", not as taken.
    const mine = writeRecordCommit(
      ctx.repo,
      `reserve ${candidate}`,
      { format: 1, branch: candidate, researcher, nonce: randomHex(8) },
      [],
      authorFor(ctx, researcher),
    );
    const run = await pushLeased(ctx.repo, ctx.config.remote, [{ src: mine, dst, expected: '' }], RESERVE_MS);
    const answer = run.refs.find((r) => r.dst === dst);
    if (answer && !answer.rejected) return candidate;
    if (!answer) return candidate === name ? suffixed() : candidate; // no answer: the suffix decides
    candidate = suffixed();
  }
  return candidate;
}

const RESERVED = 'refs/consortium-reserved/';
const RESERVE_MS = 3_000;

interface StartPoint {
  commit?: string;
  /** Whether the remote answered just now (undefined: not asked). */
  reachable?: boolean;
}

/**
 * Where a new session branch starts: `from` when given; else the remote's default branch,
 * fetched first when the remote answers within a few seconds, so that a new session never
 * inherits the unmerged work of an earlier one; else the local default branch; else HEAD.
 */
async function startPoint(ctx: Context, from: string | undefined): Promise<StartPoint> {
  if (from !== undefined) {
    const commit = resolveRef(ctx.repo, `${from}^{commit}`);
    if (!commit) throw usageError(`--from ${shown(from)} names no commit here.`);
    return { commit };
  }
  const name = defaultBranch(ctx.repo, ctx.config).name;
  const tracking = `refs/remotes/${ctx.config.remote}/${name}`;
  const fetched = await fetchRefspecs(
    ctx.repo,
    ctx.config,
    [`+refs/heads/${name}:${tracking}`],
    START_FETCH_MS,
  );
  const ref = defaultBranch(ctx.repo, ctx.config).ref;
  const commit = (ref && resolveRef(ctx.repo, `${ref}^{commit}`)) || resolveRef(ctx.repo, 'HEAD^{commit}');
  return { commit, reachable: fetched.ok ? true : fetched.reason === 'no-remote' ? undefined : false };
}

const START_FETCH_MS = 5_000;

/** What the session's branch changes now, against the default branch. */
export function workOf(
  ctx: Context,
  session: Pick<SessionRecord, 'worktree' | 'branch'>,
): { head: string | null; changedFiles: string[] } {
  const tip = session.branch ? `refs/heads/${session.branch}` : undefined;
  const head = (tip && resolveRef(ctx.repo, tip)) || null;
  if (!head) return { head: null, changedFiles: [] };
  return { head, changedFiles: changedFiles(ctx.repo, defaultBranch(ctx.repo, ctx.config).ref, head) };
}

export interface RefreshOptions {
  /** Files the agent reports touching. */
  touched?: string[];
  /** Write even within the rate limit (a push, a commit). */
  force?: boolean;
  /** Share the new record from a background process (hooks) instead of not at all. */
  share?: 'background' | 'none';
}

/**
 * Refreshes a session: heartbeat, head and changed files. Writes at most once per quarter of
 * `staleAfter` unless something changed or `force`.
 */
export function refreshSession(ctx: Context, session: Session, options: RefreshOptions = {}): Session {
  const work = workOf(ctx, session);
  const quarter = ctx.config.sessions.staleAfterMs / 4;
  const updated = updateSession(
    ctx.repo,
    session.id,
    'heartbeat',
    (record) => {
      if (record.state !== 'active') return undefined;
      const touched = [...new Set([...record.touchedFiles, ...(options.touched ?? [])])].sort();
      const changed =
        work.head !== record.head ||
        touched.length !== record.touchedFiles.length ||
        work.changedFiles.join('\0') !== record.changedFiles.join('\0');
      const due = ctx.nowMs - Date.parse(record.heartbeatAt) >= quarter;
      if (!changed && !due && !options.force) return undefined;
      return {
        ...record,
        heartbeatAt: iso(now()),
        head: work.head,
        changedFiles: work.changedFiles,
        touchedFiles: touched,
      };
    },
    authorFor(ctx, session.researcher),
  );
  ctx.invalidate();
  if (updated && updated.commit !== session.commit && options.share === 'background')
    shareInBackground(ctx.repo, [sessionRef(session.id)]);
  return updated ?? session;
}

export async function endSession(
  ctx: Context,
  session: Session,
): Promise<{ session: Session; shared: NetworkOutcome }> {
  const ended = markEnded(ctx, session);
  const pushed = await pushRefs(ctx.repo, ctx.config, [sessionRef(session.id)]);
  // The ended record already releases its leases for everyone who fetches it; when the remote
  // answered, the lease table is cleaned up as well.
  if (pushed.outcome.ok) {
    // Loaded here only: the git hooks that register and refresh sessions never need leases.
    const { releaseEnded } = await import('./leases.js');
    await releaseEnded(ctx, ended);
  }
  return { session: ended, shared: sharedOutcome(pushed) };
}

/**
 * Ends a session here, without waiting on the network: for callers with a time budget (Claude
 * Code's SessionEnd), which share the record in the background instead. `recovered` says who
 * ended someone else's abandoned session, and why (recover): its work is then left as last
 * recorded, since its branch may live on another machine.
 */
export function markEnded(
  ctx: Context,
  session: Session,
  recovered?: { by: string | null; reason: string },
): Session {
  if (session.state !== 'active') throw refusal(`Session ${session.id} has already ${session.state}.`);
  const work = recovered ? undefined : workOf(ctx, session);
  const at = iso(now());
  const ended = updateSession(
    ctx.repo,
    session.id,
    recovered ? 'end (recover)' : 'end',
    (record) =>
      record.state !== 'active'
        ? undefined
        : {
            ...record,
            state: 'ended',
            endedAt: at,
            head: work?.head ?? record.head,
            changedFiles: work?.head ? work.changedFiles : record.changedFiles,
            ...(recovered && {
              extra: { ...record.extra, recovered: { ...recovered, host: hostName(), at } },
            }),
          },
    authorFor(ctx, recovered?.by ?? session.researcher),
  )!;
  ctx.invalidate();
  return ended;
}

export function hostName(): string {
  return process.env.CONSORTIUM_HOST || safe(hostname) || 'unknown';
}

function userName(): string {
  return safe(() => userInfo().username) || process.env.USER || 'unknown';
}

function safe(f: () => string): string {
  try {
    return f();
  } catch {
    return '';
  }
}

/** What git said went wrong: its fatal or error line rather than a progress line before it. */
const firstLine = (text: string) => {
  const lines = text
    .trim()
    .split('\n')
    .filter((l) => l && !l.startsWith('hint:'));
  const problem = lines.find((l) => /^(fatal|error):/.test(l)) ?? lines[0];
  return problem?.replace(/^(fatal|error):\s*/, '') ?? 'git refused';
};
