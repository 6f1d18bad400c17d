import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { LeaseView } from '../analysis/leases.js';
import {
  type Holder,
  type LeaseRecord,
  type LiveLease,
  leasesBlocking,
  liveLeases,
  normalize,
} from '../analysis/leases.js';
import type { Context } from '../context/context.js';
import { agentEnvironment } from '../core/agent.js';
import { iso, now } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { environmentError, refusal, usageError } from '../core/errors.js';
import { isSessionId, shown } from '../core/ids.js';
import { warn } from '../core/output.js';
import { matchesAny } from '../core/patterns.js';
import { resolveRef } from '../git/refs.js';
import { allTrackedFiles } from '../git/worktrees.js';
import {
  fetchLeaseTable,
  highestSeq,
  LEASE_FORMAT,
  type LeaseChange,
  type LeaseTable,
  pushLeaseTable,
  readFetchedTable,
  readLeaseTable,
  writeLeaseCommit,
} from '../store/leases.js';
import { backoff } from '../store/records.js';
import { MIRRORED_SESSIONS, sessionRef } from '../store/refs.js';
import {
  FETCH_TIMEOUT_MS,
  fetchCoordination,
  type NetworkOutcome,
  PUSH_TIMEOUT_MS,
  pushRefs,
} from '../store/remote.js';
import { listSessions, type Session } from '../store/sessions.js';
import { authorFor } from './sessions.js';

/**
 * Leases (SPEC section 6): exclusive advisory claims of a session on files or patterns. The
 * remote decides: every change is computed from the server's table as just fetched and pushed
 * by compare-and-swap, so two sessions racing from two machines never both get overlapping
 * leases; the loser fetches the winner's table and is refused.
 */
const ATTEMPTS = 12;
/** However many retries a race costs, a lease change gives up on a slow remote after this. */
const BUDGET_MS = 15_000;

/** The time left for one network step: its own limit, cut to what remains of the budget. */
function stepTimeout(deadline: number, own: number): number {
  const left = deadline - Date.now();
  if (left < 500)
    throw environmentError('The remote is too slow to answer: nothing was changed. Try again later.');
  return Math.min(own, left);
}

function holdersOf(ctx: Context): Map<string, Holder> {
  return new Map(ctx.sessions().sessions.map((s) => [s.id, s]));
}

export const leaseView = (l: LiveLease): LeaseView => ({
  pattern: l.pattern,
  session: l.session,
  researcher: l.researcher,
  acquiredAt: l.acquiredAt,
  expiresAt: l.expiresAt,
  forced: l.forced,
  reason: l.reason,
});

/** The leases that count now, as known here (after the last fetch). */
export function currentLeases(ctx: Context): LeaseView[] {
  const stored = readLeaseTable(ctx.repo);
  if (stored.problem) warn(`warning: ${stored.problem}.`);
  return liveLeases(stored.table.leases, holdersOf(ctx), ctx.nowMs).map(leaseView);
}

/**
 * A lease pattern as typed by the user, as a pattern from the top of the repository: relative
 * to the current folder as git reads paths, or from the top after git's `:/`; a folder means
 * everything below it. Refused when it leaves the repository or holds what no path could.
 */
export function leasePattern(ctx: Context, input: string, base: string = ctx.repo.cwd): string {
  if (!input.trim() || input.length > 1024 || /[\0-\x1f\x7f]/.test(input))
    throw usageError(`${shown(input)} is not a path or pattern that can be leased.`);
  const top = ctx.repo.top;
  let relative = input.replace(/\\/g, '/');
  if (relative.startsWith(':/')) {
    relative = relative.slice(2);
    if (!relative) throw usageError(':/ alone would lease the whole repository: name what to lease.');
  } else if (path.isAbsolute(input)) relative = path.relative(top, input).split(path.sep).join('/');
  else {
    const here = path.relative(top, base).split(path.sep).join('/');
    if (here) relative = `${here}/${relative}`;
  }
  const trailing = relative.endsWith('/');
  relative = path.posix.normalize(relative);
  if (relative === '.' || relative === '..' || relative.startsWith('../') || path.posix.isAbsolute(relative))
    throw usageError(`${shown(input)} is outside the repository: a lease names paths inside it.`);
  if (trailing && !relative.endsWith('/')) relative += '/';
  let pattern = normalize(relative);
  if (!/[*?[\]{}]/.test(pattern) && isFolder(path.join(top, pattern))) pattern = `${pattern}/**`;
  return pattern;
}

/**
 * Refuses (exit 2) a pattern that leases nothing there is: no tracked file matches it, and no
 * file or folder of that name exists. A path typed from a subfolder that was meant from the
 * top is the usual slip, so the refusal suggests the spelling that works from here.
 */
export function refuseMissing(
  ctx: Context,
  wanted: { input: string; pattern: string }[],
  allowMissing = '--allow-missing',
): void {
  let tracked: string[] | undefined;
  const matches = (pattern: string) => {
    if (existsSync(path.join(ctx.repo.top, pattern.replace(/\/\*\*$/, '')))) return true;
    tracked ??= allTrackedFiles(ctx.repo);
    return tracked.some((f) => matchesAny(f, [pattern]));
  };
  const missing = wanted.filter((w) => !matches(w.pattern));
  if (missing.length === 0) return;
  const lines = missing.map(({ input, pattern }) => {
    const fromTop =
      input.startsWith(':/') || path.isAbsolute(input) ? undefined : leasePattern(ctx, `:/${input}`);
    const suggestion =
      fromTop && fromTop !== pattern && matches(fromTop) ? ` From the top it matches: write :/${input}.` : '';
    return `${shown(input)} would lease ${pattern}, which matches no tracked file and no file or folder here.${suggestion}`;
  });
  throw usageError(
    `${lines.join(' ')} Paths are read from the current folder, as git reads them (:/PATH reads from the top). ` +
      `Nothing was acquired; give ${allowMissing} to lease a path before it exists.`,
  );
}

function isFolder(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function unreachable(ctx: Context, outcome: NetworkOutcome & { ok: false }, what: string) {
  if (outcome.reason === 'refused')
    return refusal(`The server's gate refused the lease change: ${outcome.detail} ${what}`);
  return environmentError(
    `A lease needs the remote, and ${ctx.config.remote} cannot be reached (${outcome.detail}). ${what}`,
  );
}

/** `wanted` is what was asked for, when it is not the held pattern itself. */
function describe(l: LiveLease, ctx: Context, wanted = l.pattern): string {
  const left = Date.parse(l.expiresAt) - ctx.nowMs;
  const what = wanted === l.pattern ? l.pattern : `${wanted} overlaps ${l.pattern}, which`;
  return (
    `${what} is leased by ${l.researcher} (session ${l.session}) since ${l.acquiredAt} until ${l.expiresAt} ` +
    `(${formatDuration(left)} from now)${l.forced ? ', taken by force' : ''}${l.reason ? `: ${l.reason}` : ''}`
  );
}

export interface AcquireOptions {
  patterns: string[];
  ttlMs: number;
  reason: string | null;
  force: boolean;
}

export interface Acquired {
  leases: LeaseView[];
  /** Leases of other sessions broken by --force. */
  broke: LeaseView[];
}

/** Acquires (or renews) leases for `session`, or refuses naming who holds what. */
export async function acquireLeases(
  ctx: Context,
  session: Session,
  options: AcquireOptions,
): Promise<Acquired> {
  if (session.state !== 'active')
    throw refusal(`Session ${session.id} has ${session.state}: only an active session can hold leases.`);
  // Breaking someone's lease is a person's decision, like pushing past the gate.
  const agent = agentEnvironment();
  if (options.force && agent)
    throw refusal(
      `Breaking another session's lease is a person's decision, and this runs under an agent (${agent.name}). Nothing was acquired.`,
      [{ kind: 'ask-person' }],
    );
  const fetched = await fetchCoordination(ctx.repo, ctx.config);
  if (!fetched.ok) throw unreachable(ctx, fetched, 'Nothing was acquired.');
  ctx.invalidate();
  const holders = new Map<string, Holder>([[session.id, session]]);
  const deadline = Date.now() + BUDGET_MS;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (attempt > 0) {
      backoff(attempt);
      const again = await fetchLeaseTable(ctx.repo, ctx.config, stepTimeout(deadline, FETCH_TIMEOUT_MS));
      if (!again.ok) throw unreachable(ctx, again, 'Nothing was acquired.');
    }
    const server = readFetchedTable(ctx.repo);
    if (server.problem && attempt === 0) warn(`warning: ${server.problem}.`);
    // Only the holders' records matter: read those, not every session there is.
    const unknown = [...new Set(server.table.leases.map((l) => l.session))].filter((id) => !holders.has(id));
    if (unknown.length)
      for (const s of listSessions(ctx.repo, unknown.filter(isSessionId)).sessions) holders.set(s.id, s);
    const at = iso(now());
    const nowMs = Date.parse(at);
    const live = liveLeases(server.table.leases, holders, nowMs);
    const blocking = new Map<string, LiveLease>();
    const wanted = new Map<string, string>();
    for (const pattern of options.patterns)
      for (const l of leasesBlocking(live, pattern, session.id)) {
        const key = `${l.session}\0${l.pattern}`;
        blocking.set(key, l);
        if (!wanted.has(key)) wanted.set(key, pattern);
      }
    if (blocking.size && !options.force) {
      const lines = [...blocking].map(([key, l]) => describe(l, ctx, wanted.get(key)));
      const held = [...blocking.values()];
      const patterns = [...new Set(held.map((l) => l.pattern))];
      throw refusal(`${lines.join('; ')}. Nothing was acquired.`, [
        { kind: 'wait-for-expiry' },
        ...patterns.map((pattern) => ({
          kind: 'ask-to-release' as const,
          researchers: [...new Set(held.filter((l) => l.pattern === pattern).map((l) => l.researcher))],
          pattern,
        })),
        // Worded for a person only: an agent would take it (SPEC section 7, agentOverride).
        { kind: 'break-lease' },
      ]);
    }
    const mine: LeaseRecord[] = options.patterns.map((pattern) => ({
      pattern,
      session: session.id,
      researcher: session.researcher,
      acquiredAt: at,
      ttlMs: options.ttlMs,
      forced: blocking.size > 0,
      reason: options.reason,
    }));
    const keep = live
      .filter((l) => !blocking.has(`${l.session}\0${l.pattern}`))
      .filter((l) => !(l.session === session.id && options.patterns.includes(l.pattern)))
      .map(stripExpiry);
    const change: LeaseChange = {
      action: blocking.size ? 'force' : 'acquire',
      at,
      researcher: session.researcher,
      session: session.id,
      patterns: options.patterns,
      reason: options.reason,
      broke: [...blocking.values()].map(stripExpiry),
    };
    const pushed = await offerTable(
      ctx,
      server,
      [...keep, ...mine],
      change,
      stepTimeout(deadline, PUSH_TIMEOUT_MS),
    );
    if (pushed.ok) {
      await shareSessionIfUnknown(ctx, session);
      const granted = liveLeases(mine, holders, nowMs).map(leaseView);
      return { leases: granted, broke: [...blocking.values()].map(leaseView) };
    }
    if (pushed.reason !== 'moved') throw unreachable(ctx, pushed, 'Nothing was acquired.');
  }
  throw refusal(
    'The lease table is being changed by many sessions right now and this one lost every attempt; nothing was acquired. Try again in a moment.',
  );
}

const stripExpiry = (l: LiveLease | LeaseRecord): LeaseRecord => ({
  pattern: l.pattern,
  session: l.session,
  researcher: l.researcher,
  acquiredAt: l.acquiredAt,
  ttlMs: l.ttlMs,
  forced: l.forced,
  reason: l.reason,
});

/**
 * Writes the next version of the server's lease table (as last fetched) and offers it to the
 * server, which takes it only if it still holds that version: the compare-and-swap that makes
 * overlapping leases exclusive across machines.
 */
function offerTable(
  ctx: Context,
  server: ReturnType<typeof readFetchedTable>,
  leases: LeaseTable['leases'],
  change: LeaseChange,
  timeoutMs: number,
) {
  const table: LeaseTable = {
    format: LEASE_FORMAT,
    // Over an unreadable table, on from the highest seq there ever was (store/leases.ts).
    seq: (server.problem ? Math.max(server.table.seq, highestSeq(ctx.repo)) : server.table.seq) + 1,
    leases: [...leases].sort((a, b) => a.pattern.localeCompare(b.pattern)),
    change,
  };
  const commit = writeLeaseCommit(ctx.repo, table, server.commit, authorFor(ctx, change.researcher));
  return pushLeaseTable(ctx.repo, ctx.config, commit, server.commit, timeoutMs);
}

async function shareSessionIfUnknown(ctx: Context, session: Session) {
  if (!resolveRef(ctx.repo, MIRRORED_SESSIONS + session.id))
    await pushRefs(ctx.repo, ctx.config, [sessionRef(session.id)]);
}

export interface Released {
  released: string[];
  /** Patterns asked for that this session did not hold. */
  notHeld: string[];
}

/**
 * Releases leases of `session` (all of them with 'all'), through the server like every lease
 * change. `timeoutMs` bounds each network step (end uses a short one).
 */
export async function releaseLeases(
  ctx: Context,
  session: Pick<Session, 'id' | 'researcher'>,
  patterns: string[] | 'all',
  timeoutMs?: number,
): Promise<Released> {
  const deadline = Date.now() + Math.min(BUDGET_MS, 3 * (timeoutMs ?? BUDGET_MS));
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (attempt > 0) backoff(attempt);
    const fetched = await fetchLeaseTable(
      ctx.repo,
      ctx.config,
      stepTimeout(deadline, timeoutMs ?? FETCH_TIMEOUT_MS),
    );
    if (!fetched.ok) throw unreachable(ctx, fetched, 'Nothing was released.');
    const server = readFetchedTable(ctx.repo);
    const held = server.table.leases.filter((l) => l.session === session.id);
    const released = held
      .filter((l) => patterns === 'all' || patterns.includes(l.pattern))
      .map((l) => l.pattern);
    const notHeld = patterns === 'all' ? [] : patterns.filter((p) => !released.includes(p));
    if (released.length === 0) return { released, notHeld };
    const at = iso(now());
    const pushed = await offerTable(
      ctx,
      server,
      server.table.leases.filter((l) => !(l.session === session.id && released.includes(l.pattern))),
      {
        action: 'release',
        at,
        researcher: session.researcher,
        session: session.id,
        patterns: released,
        reason: null,
        broke: [],
      },
      stepTimeout(deadline, timeoutMs ?? PUSH_TIMEOUT_MS),
    );
    if (pushed.ok) return { released, notHeld };
    if (pushed.reason !== 'moved') throw unreachable(ctx, pushed, 'Nothing was released.');
  }
  throw refusal('The lease table is being changed by many sessions right now; try again in a moment.');
}

/**
 * What `end` (and `recover`) do with the leases of a session they end: release them on the
 * server when it answers. When it does not, nothing is lost: a lease of an ended session no
 * longer counts for anyone who has fetched the ended record.
 */
export async function releaseEnded(
  ctx: Context,
  session: Pick<Session, 'id' | 'researcher'>,
): Promise<Released | undefined> {
  const held = readLeaseTable(ctx.repo).table.leases.some((l) => l.session === session.id);
  if (!held) return undefined;
  try {
    return await releaseLeases(ctx, session, 'all', 3000);
  } catch {
    return undefined;
  }
}
