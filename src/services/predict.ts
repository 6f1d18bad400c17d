import { type Conflict, workOfSession } from '../analysis/conflicts.js';
import { linesBetween, mergeSpans, type Span, spanAfter, spanPair } from '../analysis/lines.js';
import { type MergeSide, mergeConflicts, overlappingPairs, type PredictedMerge } from '../analysis/merge.js';
import type { Context } from '../context/context.js';
import { localStateFile, readJson, writeJson } from '../core/local-state.js';
import { changedFiles, defaultBranch, mergeBase } from '../git/changes.js';
import { lineChanges } from '../git/hunks.js';
import { type CommitPair, existingCommits, isObjectId, mergeTrees } from '../git/merge-tree.js';
import { refShas } from '../git/refs.js';
import { fetchFrom } from '../git/remote.js';
import { FETCH_TIMEOUT_MS, hasRemote, type NetworkOutcome } from '../store/remote.js';
import type { Session } from '../store/sessions.js';
import { hostName } from './sessions.js';

/**
 * Early warning (SPEC sections 6 and 7): the committed work of live sessions merged
 * speculatively, pair by pair, without touching any worktree. Only pairs whose changed files
 * overlap are merged; all of them go through one `git merge-tree --stdin`; results are cached
 * by the pair of tips, so a repeated `status` starts no new merge.
 *
 * The tip of a session is, in order: its local branch when the session works in this
 * repository on this host (its committed work, newer than anything it pushed); its pushed
 * branch as last fetched (refs/remotes/<remote>/<branch>); the head its record holds, when
 * that commit exists here.
 */

/** One side of a possible merge: who, which files, which commit. */
interface Candidate {
  side: MergeSide;
  files: string[];
  commit: string | null;
  /** The commit came from a ref here, so it exists; a recorded head must be checked first. */
  verified: boolean;
}

/** The merge conflicts between live sessions (for status, orient and everything on the view). */
export function predictMergeConflicts(ctx: Context, live: readonly Session[]): Conflict[] {
  if (live.length < 2) return [];
  // Cheap way out: with no overlap in the records and no session of mine here (whose record
  // may lag behind its branch), there is nothing to merge and no git to run.
  const host = hostName();
  const mine = live.some((s) => s.host === host && s.branch);
  if (!mine && overlappingPairs(live.map((s) => ({ files: workOfSession(s) }))).length === 0) return [];
  const candidates = sessionCandidates(ctx, live);
  return predict(ctx, overlappingPairs(candidates));
}

/** My work, as the pre-push gate and `check` see it. */
export interface MyWork {
  /** The commit to merge with the others' work: the pushed tip, or my branch's committed tip. */
  tip: string;
  /** Files my work changes against the default branch; computed from `tip` when absent. */
  changedFiles?: readonly string[];
  /** My session, when there is one. */
  session?: { id: string; researcher: string; branch?: string | null } | null;
  /** My researcher id when there is no session (or to name me anyway). */
  researcher?: string | null;
  /** The branch pushed or checked (`HEAD` when git says so): names my tip in the advice. */
  branch?: string | null;
}

/**
 * The `merge` conflicts my work would meet (the pre-push gate and `check`): my tip merged
 * speculatively with the tip of each of `others` (live sessions; mine is left out if present)
 * whose changed files overlap mine. Each conflict names my side first. It merges what is
 * known here: fetchSessionBranches first brings the others' newest pushed work.
 */
export function mergeConflictsFor(ctx: Context, mine: MyWork, others: readonly Session[]): Conflict[] {
  const rest = others.filter((s) => s.id !== mine.session?.id);
  if (rest.length === 0) return [];
  const files = mine.changedFiles
    ? [...mine.changedFiles]
    : changedFiles(ctx.repo, defaultBranch(ctx.repo, ctx.config).ref, mine.tip);
  const me: Candidate = {
    side: {
      session: mine.session?.id ?? null,
      researcher: mine.session?.researcher ?? mine.researcher ?? null,
      branch: mine.session?.branch ?? (mine.branch === 'HEAD' ? null : (mine.branch ?? null)),
      ref: mine.branch ?? mine.tip.slice(0, 12),
    },
    files,
    commit: isObjectId(mine.tip) ? mine.tip : null,
    verified: false,
  };
  const pairs = sessionCandidates(ctx, rest)
    .filter((other) => other.files.some((f) => files.includes(f)))
    .map((other): [Candidate, Candidate] => [me, other]);
  return predict(ctx, pairs, { lines: true });
}

/**
 * Fetches the pushed branches of these sessions into refs/remotes/<remote>/, in one bounded
 * fetch, so that their tips exist here. A branch that was never pushed is simply not there:
 * each refspec is a pattern (`<branch>*`), which matches nothing rather than failing.
 */
export async function fetchSessionBranches(
  ctx: Context,
  sessions: readonly Session[],
  timeoutMs = FETCH_TIMEOUT_MS,
): Promise<NetworkOutcome> {
  const remote = ctx.config.remote;
  if (!hasRemote(ctx.repo, remote))
    return { ok: false, reason: 'no-remote', detail: `there is no remote named ${remote}` };
  const refspecs = sessionBranchRefspecs(ctx, sessions);
  if (refspecs.length === 0) return { ok: true };
  const result = await fetchFrom(ctx.repo, remote, refspecs, { timeoutMs, prune: false });
  if (result.timedOut)
    return {
      ok: false,
      reason: 'timeout',
      detail: `${remote} did not answer within ${Math.round(timeoutMs / 1000)}s`,
    };
  if (result.status !== 0)
    return { ok: false, reason: 'unreachable', detail: result.stderr.trim().split('\n')[0] ?? 'no answer' };
  return { ok: true };
}

/**
 * The refspecs that bring these sessions' pushed branches into refs/remotes/<remote>/: each a
 * pattern (`<branch>*`), which matches nothing rather than failing for a branch never pushed.
 */
export function sessionBranchRefspecs(ctx: Context, sessions: readonly Session[]): string[] {
  const remote = ctx.config.remote;
  return [...new Set(sessions.map((s) => s.branch).filter(safeBranch))].map(
    (b) => `+refs/heads/${b}*:refs/remotes/${remote}/${b}*`,
  );
}

/** Branch names safe to use in ref patterns and refspecs (anything else falls back to heads). */
function safeBranch(branch: string | null): branch is string {
  return (
    !!branch &&
    /^[A-Za-z0-9_][A-Za-z0-9._/-]*$/.test(branch) &&
    !branch.includes('..') &&
    !branch.includes('//') &&
    !branch.endsWith('/') &&
    !branch.endsWith('.lock')
  );
}

/** A session's tip as found here: the commit, how it is named, and whether a ref vouches for it. */
export interface SessionTip {
  commit: string | null;
  ref: string | null;
  /** The commit came from a ref here, so it exists; a recorded head must be checked first. */
  verified: boolean;
  /** The session's own branch in this repository (my committed work, newer than its record). */
  local: boolean;
}

/**
 * Each session's tip, with one for-each-ref for all of their branches: its local branch when
 * it works in this repository on this host, else its pushed branch as last fetched, else the
 * head its record holds.
 */
export function sessionTips(ctx: Context, sessions: readonly Session[]): Map<string, SessionTip> {
  const remote = ctx.config.remote;
  const branches = [...new Set(sessions.map((s) => s.branch).filter(safeBranch))];
  const refs = new Map<string, string>();
  if (branches.length) {
    for (const [ref, sha] of refShas(
      ctx.repo,
      branches.flatMap((b) => [`refs/heads/${b}`, `refs/remotes/${remote}/${b}`]),
    ))
      refs.set(ref, sha);
  }
  const host = hostName();
  const tips = new Map<string, SessionTip>();
  for (const s of sessions) {
    const local = s.branch && s.host === host ? refs.get(`refs/heads/${s.branch}`) : undefined;
    const pushed = s.branch ? refs.get(`refs/remotes/${remote}/${s.branch}`) : undefined;
    const head = s.head && isObjectId(s.head) ? s.head : null;
    tips.set(
      s.id,
      local
        ? { commit: local, ref: s.branch, verified: true, local: true }
        : pushed
          ? { commit: pushed, ref: `${remote}/${s.branch}`, verified: true, local: false }
          : { commit: head, ref: head?.slice(0, 12) ?? null, verified: false, local: false },
    );
  }
  return tips;
}

/** Resolves each session's tip (sessionTips) and the files its work changes. */
function sessionCandidates(ctx: Context, sessions: readonly Session[]): Candidate[] {
  const tips = sessionTips(ctx, sessions);
  let base: string | undefined | null = null;
  const baseRef = () => {
    if (base === null) base = defaultBranch(ctx.repo, ctx.config).ref;
    return base;
  };
  return sessions.map((s) => {
    const tip = tips.get(s.id)!;
    const side: MergeSide = { session: s.id, researcher: s.researcher, branch: s.branch, ref: tip.ref };
    const recorded = workOfSession(s);
    // My own committed work: when the record lags behind the branch (no hook ran since the
    // last commit), what the branch changes now is what counts.
    const files =
      tip.local && tip.commit !== s.head
        ? [...new Set([...changedFiles(ctx.repo, baseRef(), tip.commit!), ...s.touchedFiles])]
        : recorded;
    return { side, files, commit: tip.commit, verified: tip.verified };
  });
}

/** Merges the pairs (cached results first), and returns the conflicts of those that conflict. */
function predict(
  ctx: Context,
  pairs: readonly (readonly [Candidate, Candidate])[],
  options: { lines?: boolean } = {},
): Conflict[] {
  const mergeable = pairs.filter(([a, b]) => a.commit && b.commit && a.commit !== b.commit);
  if (mergeable.length === 0) return [];
  const cache = MergeCache.open(ctx.repo.commonDir);
  const todo = mergeable.filter(([a, b]) => cache.get(a.commit!, b.commit!) === undefined);
  if (todo.length) {
    const unverified = todo.flat().filter((c) => !c.verified);
    const present = existingCommits(
      ctx.repo,
      unverified.map((c) => c.commit!),
    );
    const runnable = todo.filter(
      ([a, b]) => (a.verified || present.has(a.commit!)) && (b.verified || present.has(b.commit!)),
    );
    const outcomes = mergeTrees(
      ctx.repo,
      runnable.map(([a, b]): CommitPair => [a.commit!, b.commit!]),
    );
    runnable.forEach(([a, b], i) => {
      const outcome = outcomes[i]!;
      // A pair git cannot merge at all is not cached: a later fetch may complete its history.
      if (outcome.status !== 'failed')
        cache.set(a.commit!, b.commit!, outcome.status === 'clean' ? [] : outcome.paths);
    });
  }
  const merges: PredictedMerge[] = [];
  for (const [a, b] of mergeable) {
    const paths = cache.get(a.commit!, b.commit!);
    if (!paths?.length) continue;
    const lines = options.lines
      ? cache.lines(a.commit!, b.commit!, () => conflictLines(ctx, a.commit!, b.commit!, paths))
      : undefined;
    merges.push({ a: a.side, b: b.side, paths, ...(lines && { lines }) });
  }
  cache.save();
  return mergeConflicts(merges);
}

/**
 * The lines a conflicted merge of `mine` and `theirs` meets, per path, as `mine` numbers them:
 * where a hunk of each side (against their merge base) overlaps or touches the other's, the
 * lines of both, carried into my numbering. One merge-base and one diff-tree for the pair.
 */
function conflictLines(
  ctx: Context,
  mine: string,
  theirs: string,
  paths: readonly string[],
): Record<string, [number, number][]> {
  const lines: Record<string, [number, number][]> = {};
  const base = mergeBase(ctx.repo, mine, theirs);
  if (!base) return lines;
  const changes = lineChanges(
    ctx.repo,
    [
      [mine, base],
      [theirs, base],
    ],
    paths,
  );
  const byPath = (commit: string, p: string) =>
    changes.get(commit)?.find((f) => f.path === p || f.from === p);
  for (const p of paths) {
    const me = byPath(mine, p);
    const them = byPath(theirs, p);
    if (!me || !them || me.status === 'deleted' || them.status === 'deleted') {
      lines[p] = [];
      continue;
    }
    const spans: Span[] = [];
    for (const h of me.hunks)
      for (const t of them.hunks)
        if (linesBetween(h.old, t.old) <= 0) spans.push(h.new, spanAfter(t.old, me.hunks));
    lines[p] = mergeSpans(spans).map(spanPair);
  }
  return lines;
}

/**
 * Results of speculative merges by pair of commits, in .git/consortium/merge-cache.json: the
 * conflicted paths, and for a conflicted pair the lines it meets as the first commit numbers
 * them (a blocked push and its override, or the next push while the others have not moved,
 * start no merge-base and diff-tree again). A merge of two commits always gives the same
 * result, so entries never go stale; the file keeps the most recently used MAX_ENTRIES. It is
 * a cache: unreadable means empty, and a write that fails (or loses a race with another
 * process) only costs a merge later.
 */
const MAX_ENTRIES = 4096;
const CACHE_FORMAT = 1;

class MergeCache {
  private changed = false;
  private readonly used = new Set<string>();

  private constructor(
    private readonly file: string,
    private readonly entries: Map<string, string[]>,
    /** By `<first> <second>`, in that order: the lines are the first commit's. */
    private readonly lineEntries: Map<string, Record<string, [number, number][]>>,
  ) {}

  static open(commonDir: string): MergeCache {
    const file = localStateFile(commonDir, 'merge-cache.json');
    const entries = new Map<string, string[]>();
    const lineEntries = new Map<string, Record<string, [number, number][]>>();
    // No cache yet, or an unreadable one: start empty.
    const data = readJson<{ format?: unknown; merges?: unknown; lines?: unknown }>(file);
    if (data?.format === CACHE_FORMAT && data.merges && typeof data.merges === 'object') {
      for (const [key, paths] of Object.entries(data.merges as Record<string, unknown>)) {
        if (Array.isArray(paths) && paths.every((p) => typeof p === 'string')) entries.set(key, paths);
      }
      for (const [key, lines] of Object.entries((data.lines ?? {}) as Record<string, unknown>))
        if (isLines(lines)) lineEntries.set(key, lines);
    }
    return new MergeCache(file, entries, lineEntries);
  }

  /**
   * The lines a conflicted merge of `a` and `b` meets, as `a` numbers them: kept, else found
   * now. Only an answer that names lines is kept: none at all may be a git process that failed
   * (killed, or out of memory), which the next check asks again.
   */
  lines(
    a: string,
    b: string,
    find: () => Record<string, [number, number][]>,
  ): Record<string, [number, number][]> {
    const key = `${a} ${b}`;
    let lines = this.lineEntries.get(key);
    if (!lines) {
      lines = find();
      if (Object.values(lines).some((spans) => spans.length)) {
        this.lineEntries.set(key, lines);
        this.changed = true;
      }
    }
    return lines;
  }

  private static key(a: string, b: string) {
    return a < b ? `${a} ${b}` : `${b} ${a}`;
  }

  /** Conflicted paths of the pair ([] when it merges cleanly), or undefined when unknown. */
  get(a: string, b: string): string[] | undefined {
    const key = MergeCache.key(a, b);
    const paths = this.entries.get(key);
    if (paths) this.used.add(key);
    return paths;
  }

  set(a: string, b: string, paths: string[]): void {
    const key = MergeCache.key(a, b);
    this.entries.set(key, paths);
    this.used.add(key);
    this.changed = true;
  }

  save(): void {
    if (!this.changed) return;
    // Entries used now go last, so trimming from the front drops the least recently used.
    const ordered = [...this.entries].filter(([k]) => !this.used.has(k));
    for (const key of this.used) ordered.push([key, this.entries.get(key)!]);
    const kept = ordered.slice(-MAX_ENTRIES);
    // Lines only for the pairs kept: a pair's lines are never kept longer than its merge.
    const pairs = new Set(kept.map(([key]) => key));
    const lines = [...this.lineEntries].filter(([key]) =>
      pairs.has(MergeCache.key(...(key.split(' ') as [string, string]))),
    );
    // A read-only repository: the merges are simply done again next time.
    writeJson(this.file, {
      format: CACHE_FORMAT,
      merges: Object.fromEntries(kept),
      lines: Object.fromEntries(lines),
    });
  }
}

/** A kept entry of lines as conflictLines gives them: by path, pairs of line numbers. */
const isLines = (value: unknown): value is Record<string, [number, number][]> =>
  !!value &&
  typeof value === 'object' &&
  !Array.isArray(value) &&
  Object.values(value).every(
    (spans) =>
      Array.isArray(spans) &&
      spans.every((s) => Array.isArray(s) && s.length === 2 && s.every((n) => Number.isInteger(n))),
  );
