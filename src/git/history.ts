import type { Repo } from './repo.js';
import { git } from './run.js';

/**
 * Reading history: commits of a range, the files they change, who wrote them, and the record
 * commits of the toolkit's refs. Revisions come from git or from the toolkit's records, and go
 * after --end-of-options where git could read one as an option.
 */

/** The files that differ between two commits (`symmetric`: from their merge base, a...b). */
export function filesBetween(repo: Repo, from: string, to: string, symmetric = false): string[] {
  const range = symmetric ? [`${from}...${to}`] : [from, to];
  const r = git(['diff', '--name-only', '-z', '--no-renames', '--end-of-options', ...range, '--'], {
    cwd: repo.top,
  });
  return r.status === 0 ? r.stdout.split('\0').filter(Boolean).sort() : [];
}

/** The commits of `from..to`, newest first, with their subjects. */
export function commitsBetween(repo: Repo, from: string, to: string): { sha: string; subject: string }[] {
  const r = git(['log', '--format=%H%x00%s', '--end-of-options', `${from}..${to}`], { cwd: repo.top });
  if (r.status !== 0) return [];
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [sha = '', subject = ''] = line.split('\0');
      return { sha, subject };
    });
}

/** The ids of the commits reachable from `include` and from none of `exclude`, limited to `paths`. */
export function commitIds(
  repo: Repo,
  include: string[],
  exclude: string[] = [],
  options: { max?: number; paths?: string[] } = {},
): string[] | undefined {
  const r = git(
    [
      'rev-list',
      ...(options.max ? [`--max-count=${options.max}`] : []),
      '--end-of-options',
      ...include,
      ...exclude.map((e) => `^${e}`),
      '--',
      ...(options.paths ?? []),
    ],
    { cwd: repo.top },
  );
  return r.status === 0 ? r.stdout.split('\n').filter(Boolean) : undefined;
}

/** How many commits of `head` neither `start` nor any ref of `remote` holds. */
export function countUnpushed(repo: Repo, head: string, start: string, remote: string): number {
  // The revisions are commit ids from the records: no --end-of-options, after which rev-list
  // would read --not as a revision.
  const r = git(['rev-list', '--count', head, '--not', start, `--remotes=${remote}`, '--'], {
    cwd: repo.top,
  });
  return r.status === 0 ? Number(r.stdout.trim()) || 0 : 0;
}

/** The author emails of the commits of `head` past `since`. */
export function authorEmails(repo: Repo, head: string, since: string): string[] | undefined {
  const r = git(['log', '--format=%ae', '--end-of-options', head, `^${since}`, '--'], { cwd: repo.top });
  return r.status === 0 ? r.stdout.split('\n').filter(Boolean) : undefined;
}

/** A commit pushed and the files it changes (none for a merge). */
export interface CommitFiles {
  sha: string;
  files: string[];
}

/**
 * Which commits to look at: those of `tip` that none of `not` holds (nor, with `notOnRemote`,
 * any ref of that remote), or a range as the user typed it (A..B, A...B).
 */
export type CommitSelection =
  | { tip: string; not?: string[]; notOnRemote?: string; ignoreMissing?: boolean }
  | { range: string };

function selectionArgs(selection: CommitSelection): string[] {
  if ('range' in selection) return ['--end-of-options', selection.range];
  return [
    ...(selection.ignoreMissing ? ['--ignore-missing'] : []),
    selection.tip,
    '--not',
    ...(selection.notOnRemote ? [`--remotes=${selection.notOnRemote}`] : []),
    ...(selection.not ?? []),
  ];
}

/** Each selected commit and the files it changes. */
export function commitsWithFiles(repo: Repo, selection: CommitSelection): CommitFiles[] {
  const result = git(
    // A merge lists the files it changes against every parent (its own edits), not none.
    [
      'log',
      '--no-renames',
      '--diff-merges=dense-combined',
      '--name-only',
      '-z',
      '--format=%x01%H',
      ...selectionArgs(selection),
    ],
    {
      cwd: repo.top,
    },
  );
  if (result.status !== 0) return [];
  const commits: CommitFiles[] = [];
  for (const chunk of result.stdout.split('\x01')) {
    if (!chunk) continue;
    const [sha = '', ...rest] = chunk.split('\0');
    commits.push({ sha, files: rest.map((f) => f.replace(/^\n/, '')).filter(Boolean) });
  }
  return commits;
}

/** A commit of `from..to` with its author, time, subject and files. */
export interface AuthoredCommit {
  sha: string;
  name: string;
  email: string;
  at: string;
  subject: string;
  files: string[];
}

export function authoredCommits(repo: Repo, from: string, to: string): AuthoredCommit[] {
  const r = git(
    [
      'log',
      '--format=%x1e%H%x00%an%x00%ae%x00%cI%x00%s',
      '--name-only',
      '--no-renames',
      '--end-of-options',
      `${from}..${to}`,
      '--',
    ],
    { cwd: repo.top },
  );
  if (r.status !== 0) return [];
  const commits: AuthoredCommit[] = [];
  for (const chunk of r.stdout.split('\x1e')) {
    const [header = '', ...names] = chunk.trim().split('\n');
    const [sha, name = '', email = '', at = '', subject = ''] = header.split('\0');
    if (sha) commits.push({ sha, name, email, at, subject, files: names.filter(Boolean) });
  }
  return commits;
}

/**
 * Every commit in the history of the refs matching `globs`: id, author time and message. On the
 * minimal runner: SessionStart reads the forced leases that concern its researcher.
 */
export function recordHistory(repo: Repo, globs: string[]): { sha: string; at: string; message: string }[] {
  const r = git(['log', '--format=%H%x00%aI%x00%B%x1e', ...globs.map((g) => `--glob=${g}`), '--'], {
    cwd: repo.top,
  });
  if (r.status !== 0) return [];
  const found: { sha: string; at: string; message: string }[] = [];
  for (const chunk of r.stdout.split('\x1e')) {
    const [sha, at, message] = chunk.replace(/^\n/, '').split('\0');
    if (sha && at && message) found.push({ sha, at, message: message.trimEnd() });
  }
  return found;
}

/**
 * Of `tips`, those the remote (as last fetched) does not hold yet: one rev-list, however many.
 * A tag whose commit the remote holds brings nothing new to check.
 */
export function tipsNotOnRemote(repo: Repo, tips: string[], remote: string): Set<string> {
  if (tips.length === 0) return new Set();
  // `tips` are commit ids (the gate peeled them), never options.
  const r = git(['rev-list', ...tips, '--not', `--remotes=${remote}`, '--'], { cwd: repo.top });
  const fresh = new Set(r.stdout.split('\n').filter(Boolean));
  return new Set(tips.filter((t) => r.status !== 0 || fresh.has(t)));
}

/**
 * The commits reachable from `tips` that no ref holds yet (a push's new commits, in the
 * server's pre-receive), each with its tree: one `rev-list`; undefined when git cannot list them.
 */
export function newCommitTrees(repo: Repo, tips: string[]): { commit: string; tree: string }[] | undefined {
  // Object ids only (git's own lines on pre-receive's stdin): nothing here reads as an option.
  const ids = tips.filter((t) => /^[0-9a-f]{40,64}$/.test(t));
  const r = git(['rev-list', '--format=%T', ...ids, '--not', '--all'], { cwd: repo.top });
  // Undefined when git cannot list them: the caller must not take that for "none".
  if (r.status !== 0) return undefined;
  const out: { commit: string; tree: string }[] = [];
  const lines = r.stdout.split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const commit = /^commit ([0-9a-f]+)/.exec(lines[i] ?? '')?.[1];
    if (commit) out.push({ commit, tree: (lines[i + 1] ?? '').trim() });
  }
  return out;
}
