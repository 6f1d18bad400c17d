import type { Config } from '../core/config.js';
import { remembered } from './memo.js';
import { branchRefs } from './refs.js';
import type { Repo } from './repo.js';
import { git } from './run.js';

/**
 * The default branch (SPEC section 3): configured, else the remote's HEAD branch, else main,
 * else master. `ref` is what to compare against: the remote-tracking branch when there is
 * one (it is the newer), else the local branch.
 */
export interface DefaultBranch {
  name: string;
  ref: string | undefined;
}

export function defaultBranch(repo: Repo, config: Config): DefaultBranch {
  return remembered(repo, `default branch ${config.remote} ${config.defaultBranch ?? ''}`, () =>
    askDefaultBranch(repo, config),
  );
}

function askDefaultBranch(repo: Repo, config: Config): DefaultBranch {
  const remote = `refs/remotes/${config.remote}/`;
  const branches = branchRefs(repo);
  const refs = new Map([...branches].map(([ref, { symref }]) => [ref, symref]));
  let name = config.defaultBranch;
  const head = refs.get(`${remote}HEAD`);
  if (!name && head?.startsWith(remote)) name = head.slice(remote.length);
  if (!name)
    name =
      refs.has(`${remote}main`) ||
      refs.has('refs/heads/main') ||
      !(refs.has(`${remote}master`) || refs.has('refs/heads/master'))
        ? 'main'
        : 'master';
  const candidates = [`${remote}${name}`, `refs/heads/${name}`];
  return { name, ref: candidates.find((c) => refs.has(c)) };
}

/** Files changed between the merge base of `base` and `head`, and `head`. */
export function changedFiles(repo: Repo, base: string | undefined, head: string): string[] {
  if (!base) return [];
  return [...remembered(repo, `changed files ${base}...${head}`, () => askChangedFiles(repo, base, head))];
}

function askChangedFiles(repo: Repo, base: string, head: string): string[] {
  const result = git(['diff', '--name-only', '-z', '--no-renames', '--end-of-options', `${base}...${head}`], {
    cwd: repo.top,
  });
  if (result.status !== 0) return [];
  return result.stdout.split('\0').filter(Boolean).sort();
}

export function headCommit(repo: Repo, cwd = repo.top): string | undefined {
  const result = git(['rev-parse', '--verify', '--quiet', 'HEAD'], { cwd });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** The merge base of two commits, or undefined when they have none (or one is unknown). */
export function mergeBase(repo: Repo, a: string, b: string): string | undefined {
  const result = git(['merge-base', '--end-of-options', a, b], { cwd: repo.top });
  return result.status === 0 ? result.stdout.trim() || undefined : undefined;
}

/**
 * Files of the worktree that differ from commit `base`: committed since, staged, changed or
 * deleted in the working tree, and untracked files git does not ignore; `pathspecs` limits the
 * look to what matters. `added`: not in `base`.
 */
export function worktreeChangedFiles(
  repo: Repo,
  base: string,
  pathspecs: string[] = [],
): { path: string; added: boolean }[] {
  const limit = ['--', ...pathspecs];
  const tracked = git(['diff', '--name-status', '-z', '--no-renames', '--end-of-options', base, ...limit], {
    cwd: repo.top,
  });
  const untracked = git(['ls-files', '-z', '--others', '--exclude-standard', ...limit], { cwd: repo.top });
  const found = new Map<string, boolean>();
  if (tracked.status === 0) {
    const fields = tracked.stdout.split('\0');
    for (let i = 0; i + 1 < fields.length; i += 2) found.set(fields[i + 1]!, fields[i] === 'A');
  }
  if (untracked.status === 0)
    for (const file of untracked.stdout.split('\0')) if (file) found.set(file, true);
  return [...found]
    .map(([file, added]) => ({ path: file, added }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
}

/**
 * The commits of HEAD that no ref of `remote` holds, oldest last, with the files each changes
 * (limited to `pathspecs`): what a push of this branch would carry, commit by commit.
 */
export function unpushedCommits(
  repo: Repo,
  remote: string,
  pathspecs: string[] = [],
): { sha: string; parent: string | null; files: string[] }[] {
  const out = git(
    [
      'log',
      '--no-renames',
      '--name-only',
      '-z',
      '--format=%x01%H %P',
      'HEAD',
      '--not',
      `--remotes=${remote}`,
      '--',
      ...pathspecs,
    ],
    { cwd: repo.top },
  );
  if (out.status !== 0) return [];
  return out.stdout
    .split('\x01')
    .filter(Boolean)
    .map((chunk) => {
      const [head = '', ...files] = chunk.split('\0');
      const [sha = '', parent] = head.replace(/\n.*$/s, '').split(' ');
      return { sha, parent: parent ?? null, files: files.map((f) => f.replace(/^\n/, '')).filter(Boolean) };
    });
}
