import type { Repo } from './repo.js';
import { git } from './run.js';

/**
 * Speculative merges without a worktree: `git merge-tree --write-tree`, many pairs through one
 * process (`--stdin`). On git 2.39 the batch output is NUL-delimited, each result starts with
 * `1` for clean and `0` for conflicted, the process exits 0 even when merges conflict, and one
 * pair git cannot merge (an unknown revision, unrelated histories) aborts the rest of the
 * batch. So callers make sure every tip exists (`existingCommits`) first, and a batch that
 * stops early is resumed after the pair that stopped it.
 */
export type MergeOutcome =
  | { status: 'clean' }
  | { status: 'conflict'; paths: string[] }
  /** git could not merge the pair at all (unrelated histories, missing history). */
  | { status: 'failed'; detail: string };

export type CommitPair = readonly [string, string];

const OBJECT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** Whether a string is a full object id (SHA-1 or SHA-256), safe to hand to git's stdin. */
export const isObjectId = (value: string): boolean => OBJECT_ID.test(value);

/**
 * Which of these object ids name commits that exist in this repository, in one
 * `git cat-file --batch-check` process whatever their number.
 */
export function existingCommits(repo: Repo, ids: Iterable<string>): Set<string> {
  const wanted = [...new Set(ids)].filter(isObjectId);
  if (wanted.length === 0) return new Set();
  const result = git(['cat-file', '--batch-check=%(objectname) %(objecttype)'], {
    cwd: repo.top,
    input: wanted.map((id) => `${id}^{commit}\n`).join(''),
  });
  const found = new Set<string>();
  if (result.status !== 0) return found;
  const lines = result.stdout.split('\n');
  wanted.forEach((id, i) => {
    // `X^{commit}` of a commit is the commit itself; anything else answers "missing".
    if (lines[i] === `${id} commit`) found.add(id);
  });
  return found;
}

/**
 * Merges every pair speculatively, in as few git processes as the pairs allow: one, unless a
 * pair cannot be merged at all, which costs one more process for the pairs after it.
 * Every tip must be an existing commit (see existingCommits).
 */
export function mergeTrees(repo: Repo, pairs: readonly CommitPair[]): MergeOutcome[] {
  const outcomes: MergeOutcome[] = [];
  let restarts = 0;
  while (outcomes.length < pairs.length) {
    const rest = pairs.slice(outcomes.length);
    const result = git(['merge-tree', '--write-tree', '--stdin', '--name-only', '--no-messages'], {
      cwd: repo.top,
      input: rest.map(([a, b]) => `${a} ${b}\n`).join(''),
    });
    // git 2.38 has --write-tree but not --stdin: one process per pair there.
    if (result.status === 129 && outcomes.length === 0) return pairs.map((pair) => mergeOnePair(repo, pair));
    const batch = parseMergeTreeBatch(result.stdout).slice(0, rest.length);
    outcomes.push(...batch);
    if (batch.length === rest.length) break;
    // git stopped at the first pair it could not merge: record it, carry on after it (a bounded
    // number of times, so that a git failing for some other reason costs few processes).
    const detail = lastLine(result.stderr) || 'git merge-tree failed';
    outcomes.push({ status: 'failed', detail });
    if (++restarts > MAX_RESTARTS) {
      while (outcomes.length < pairs.length) outcomes.push({ status: 'failed', detail: 'not checked' });
    }
  }
  return outcomes;
}

const MAX_RESTARTS = 16;

function mergeOnePair(repo: Repo, [a, b]: CommitPair): MergeOutcome {
  const result = git(['merge-tree', '--write-tree', '--name-only', '--no-messages', '-z', a, b], {
    cwd: repo.top,
  });
  if (result.status === 0) return { status: 'clean' };
  if (result.status !== 1)
    return { status: 'failed', detail: lastLine(result.stderr) || 'git merge-tree failed' };
  const paths = result.stdout.split('\0').slice(1).filter(Boolean);
  return { status: 'conflict', paths: [...new Set(paths)].sort() };
}

const lastLine = (text: string) =>
  text
    .trim()
    .split('\n')
    .at(-1)
    ?.replace(/^(fatal|error):\s*/, '') ?? '';

/**
 * Reads the output of `git merge-tree --write-tree --stdin --name-only --no-messages`: per
 * pair, `1|0 NUL tree NUL` then the conflicted paths, each followed by NUL, then one more NUL.
 * A result cut short (git aborted mid-batch) is dropped.
 */
export function parseMergeTreeBatch(output: string): MergeOutcome[] {
  const fields = output.split('\0');
  const outcomes: MergeOutcome[] = [];
  let i = 0;
  while (i + 1 < fields.length) {
    const flag = fields[i];
    if (flag !== '0' && flag !== '1') break;
    const paths: string[] = [];
    let j = i + 2;
    while (j < fields.length && fields[j] !== '') paths.push(fields[j++]!);
    if (j >= fields.length) break; // no terminator: incomplete
    outcomes.push(
      flag === '1' ? { status: 'clean' } : { status: 'conflict', paths: [...new Set(paths)].sort() },
    );
    i = j + 1;
  }
  return outcomes;
}
