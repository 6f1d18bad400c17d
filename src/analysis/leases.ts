import { minimatch } from 'minimatch';
import { matches } from '../core/patterns.js';

/**
 * Leases, as pure functions: when two patterns can name the same path, when a lease stops
 * counting, and which leases stand in the way of a file. No git, no file system: the lease
 * table and the sessions come in, answers go out. The pre-push gate and the Claude Code
 * PreToolUse hook import `leasesBlocking` and `patternsOverlap` from here.
 */
export interface LeaseRecord {
  pattern: string;
  session: string;
  researcher: string;
  acquiredAt: string;
  /** Time to live, renewed by the holder's heartbeats. */
  ttlMs: number;
  /** Taken by breaking another session's lease. */
  forced: boolean;
  reason: string | null;
}

/** What a lease needs to know of its holder session. */
export interface Holder {
  state: 'active' | 'ended' | 'merged';
  heartbeatAt: string;
}

/**
 * When a lease stops counting, in ms since the epoch, or undefined when it is released.
 * While its session is active (or stale) it lasts its time to live from the later of its
 * acquisition and the session's last heartbeat, so heartbeats renew it without anyone
 * rewriting the shared lease table; once the session has ended or merged it is released.
 * A holder not known here (its record not fetched) gets no renewal: acquisition + ttl.
 */
export function expiryOf(lease: LeaseRecord, holder: Holder | undefined): number | undefined {
  if (holder && holder.state !== 'active') return undefined;
  const acquired = Date.parse(lease.acquiredAt);
  const heartbeat = holder ? Date.parse(holder.heartbeatAt) : Number.NaN;
  const from = Number.isNaN(heartbeat) ? acquired : Math.max(acquired, heartbeat);
  return from + lease.ttlMs;
}

export interface LiveLease extends LeaseRecord {
  expiresAt: string;
}

/** A lease as every reader sees it: live, with its effective expiry (the one lease shape). */
export type LeaseView = Omit<LiveLease, 'ttlMs'>;

/** The leases that still count at `nowMs`, each with its effective expiry. */
export function liveLeases(
  leases: readonly LeaseRecord[],
  holders: ReadonlyMap<string, Holder>,
  nowMs: number,
): LiveLease[] {
  const live: LiveLease[] = [];
  for (const lease of leases) {
    const expiry = expiryOf(lease, holders.get(lease.session));
    if (expiry === undefined || Number.isNaN(expiry) || expiry <= nowMs) continue;
    live.push({ ...lease, expiresAt: new Date(expiry).toISOString() });
  }
  return live.sort((a, b) => a.pattern.localeCompare(b.pattern) || a.session.localeCompare(b.session));
}

/**
 * The leases of other sessions that stand in the way of `file` (a path from the top of the
 * repository, or a pattern): those whose pattern could name the same path.
 */
export function leasesBlocking<T extends { pattern: string; session: string }>(
  leases: readonly T[],
  file: string,
  mySessionId: string | undefined,
): T[] {
  return leases.filter((l) => l.session !== mySessionId && patternsOverlap(l.pattern, file));
}

/**
 * Which leases stand in the way of which paths, by holding session: one agreement to reach per
 * holder, however many of its leases (`src/**` and `src/shared.py`) the work meets. `met`: the
 * pairs of a lease and a path it blocks, in the order found.
 */
export function byHolder<L extends { session: string }>(
  met: Iterable<readonly [L, string]>,
): Map<string, { leases: L[]; paths: Set<string> }> {
  const holders = new Map<string, { leases: L[]; paths: Set<string> }>();
  for (const [lease, path] of met) {
    const held = holders.get(lease.session) ?? { leases: [], paths: new Set<string>() };
    if (!held.leases.includes(lease)) held.leases.push(lease);
    held.paths.add(path);
    holders.set(lease.session, held);
  }
  return holders;
}

/** A holder's leases as the conflict messages name them: `lease src/** until <time>`, or `leases ...` for several. */
export const leasesNamed = (leases: readonly { pattern: string; expiresAt: string }[]) =>
  `${leases.length === 1 ? 'lease' : 'leases'} ${leases.map((l) => `${l.pattern} until ${l.expiresAt}`).join(', ')}`;

const MAGIC = /[*?[\]{}()!+@\\]/;
/** Extended globs (`!(x)`, `+(x)`, `@(x)`, `*(x)`, `?(x)`): not analysed, taken to overlap. */
const EXTGLOB = /[!?+*@]\(/;
const MAX_EXPANSIONS = 64;

/**
 * Whether some path could match both patterns (minimatch globs over paths from the top, dot
 * files included, as core/patterns.ts matches them). A plain path overlaps a pattern exactly
 * when the pattern matches it. Two globs are compared segment by segment (`**` standing for
 * any number of segments) and each pair of segments by searching both at once for a common
 * string. Whatever this cannot decide (extended globs, too many brace alternatives) overlaps.
 */
export function patternsOverlap(a: string, b: string): boolean {
  const left = normalize(a);
  const right = normalize(b);
  if (left === right) return true;
  const leftMagic = MAGIC.test(left);
  const rightMagic = MAGIC.test(right);
  if (!leftMagic && !rightMagic) return false;
  if (!leftMagic) return matches(left, right);
  if (!rightMagic) return matches(right, left);
  if (EXTGLOB.test(left) || EXTGLOB.test(right)) return true;
  const lefts = expand(left);
  const rights = expand(right);
  if (!lefts || !rights) return true;
  return lefts.some((l) => rights.some((r) => segmentsOverlap(l.split('/'), r.split('/'))));
}

/** `./a//b/` -> `a/b/**`: a trailing slash names everything below a folder. */
export function normalize(pattern: string): string {
  let p = pattern.replace(/\/{2,}/g, '/');
  while (p.startsWith('./')) p = p.slice(2);
  if (p.endsWith('/') && p.length > 1) p = `${p}**`;
  return p;
}

function expand(pattern: string): string[] | undefined {
  if (!/[{}]/.test(pattern)) return [pattern];
  const all = minimatch.braceExpand(pattern);
  return all.length > MAX_EXPANSIONS ? undefined : all;
}

function segmentsOverlap(a: string[], b: string[]): boolean {
  const memo = new Map<number, boolean>();
  const width = b.length + 1;
  const visit = (i: number, j: number): boolean => {
    const key = i * width + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    memo.set(key, false);
    let result = false;
    if (i === a.length && j === b.length) result = true;
    else if (a[i] === '**') result = visit(i + 1, j) || (j < b.length && visit(i, j + 1));
    else if (b[j] === '**') result = visit(i, j + 1) || (i < a.length && visit(i + 1, j));
    else if (i < a.length && j < b.length) result = segmentOverlap(a[i]!, b[j]!) && visit(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return visit(0, 0);
}

/** One element of a segment glob: a literal character, `?`, `*`, or a character class. */
type Token =
  | { kind: 'char'; char: string }
  | { kind: 'any' }
  | { kind: 'star' }
  | { kind: 'class'; test: RegExp };

function tokenize(segment: string): Token[] | undefined {
  const tokens: Token[] = [];
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '\\') {
      const next = segment[i + 1];
      if (next === undefined) return undefined;
      tokens.push({ kind: 'char', char: next });
      i++;
    } else if (c === '*') {
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (c === '?') tokens.push({ kind: 'any' });
    else if (c === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) {
        tokens.push({ kind: 'char', char: c });
        continue;
      }
      const body = segment.slice(i + 1, end).replace(/^!/, '^');
      try {
        tokens.push({ kind: 'class', test: new RegExp(`^[${body}]$`, 'u') });
      } catch {
        return undefined;
      }
      i = end;
    } else tokens.push({ kind: 'char', char: c });
  }
  return tokens;
}

/** Characters tried when two character classes meet: enough to tell any two ASCII classes apart. */
const PROBES = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));

function charsMeet(x: Token, y: Token): boolean {
  if (x.kind === 'any') return true;
  if (y.kind === 'any') return true;
  if (x.kind === 'char' && y.kind === 'char') return x.char === y.char;
  if (x.kind === 'char' && y.kind === 'class') return y.test.test(x.char);
  if (x.kind === 'class' && y.kind === 'char') return x.test.test(y.char);
  if (x.kind === 'class' && y.kind === 'class') {
    if (PROBES.some((c) => x.test.test(c) && y.test.test(c))) return true;
    // Classes of characters beyond ASCII: not worth deciding, take them to overlap.
    return /[^\x20-\x7e]/.test(x.test.source + y.test.source);
  }
  return true;
}

/**
 * Whether two globs of one path segment share a non-empty string: a search over pairs of
 * positions in both, where `*` may stay put while the other side moves.
 */
function segmentOverlap(a: string, b: string): boolean {
  if (a === '**' || b === '**') return true;
  const x = tokenize(a);
  const y = tokenize(b);
  if (!x || !y) return true;
  const seen = new Set<string>();
  const stack: [number, number, boolean][] = [[0, 0, false]];
  while (stack.length) {
    const [i, j, consumed] = stack.pop()!;
    const key = `${i},${j},${consumed}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (i === x.length && j === y.length) {
      if (consumed) return true;
      continue;
    }
    const tx = x[i];
    const ty = y[j];
    // A star may match nothing more.
    if (tx?.kind === 'star') stack.push([i + 1, j, consumed]);
    if (ty?.kind === 'star') stack.push([i, j + 1, consumed]);
    if (!tx || !ty) continue;
    // Both sides take one character.
    const bothStar = tx.kind === 'star' && ty.kind === 'star';
    if (bothStar) {
      stack.push([i, j, true]);
      continue;
    }
    if (tx.kind === 'star') stack.push([i, j + 1, true]);
    else if (ty.kind === 'star') stack.push([i + 1, j, true]);
    else if (charsMeet(tx, ty)) stack.push([i + 1, j + 1, true]);
  }
  return false;
}
