import { existsSync } from 'node:fs';
import { gitAsync } from './engine.js';
import type { Repo } from './repo.js';
import { type GitResult, git } from './run.js';

/** Worktrees, branches and the working-tree operations the toolkit itself runs. */

/** Every worktree of the repository that still exists, the main one first (as git lists them). */
export function worktreePaths(repo: Repo): string[] {
  const out = git(['worktree', 'list', '--porcelain'], { cwd: repo.top }).stdout;
  return out
    .split('\n')
    .filter((l) => l.startsWith('worktree '))
    .map((l) => l.slice('worktree '.length))
    .filter((w) => existsSync(w));
}

/** A new linked worktree at `target` on `branch`, created from `start` when it does not exist yet. */
export function addWorktree(
  repo: Repo,
  target: string,
  branch: string,
  options: { create: boolean; start?: string; env?: NodeJS.ProcessEnv },
): Promise<GitResult> {
  const args = options.create
    ? ['worktree', 'add', '-b', branch, '--end-of-options', target, options.start ?? 'HEAD']
    : ['worktree', 'add', '--end-of-options', target, branch];
  return gitAsync(args, { cwd: repo.top, env: options.env });
}

/** Checks out `branch` in the worktree at `cwd`, creating it from `start` when asked. */
export function checkoutBranch(
  cwd: string,
  branch: string,
  options: { create: boolean; start?: string; env?: NodeJS.ProcessEnv },
): Promise<GitResult> {
  const args = options.create
    ? ['checkout', '--quiet', '-b', branch, ...(options.start ? [options.start, '--'] : [])]
    : ['checkout', '--quiet', branch, '--'];
  return gitAsync(args, { cwd, env: options.env });
}

export async function deleteBranch(repo: Repo, branch: string): Promise<boolean> {
  return (await gitAsync(['branch', '-q', '-D', '--end-of-options', branch], { cwd: repo.top })).status === 0;
}

/** Whether tracked files of the worktree at `cwd` have changes not committed. */
export async function hasUncommittedChanges(cwd: string): Promise<boolean> {
  return (await gitAsync(['status', '--porcelain', '--untracked-files=no'], { cwd })).stdout.trim() !== '';
}

/** Rebases the branch checked out at `cwd` onto `onto`; on a conflict, the files and an abort. */
export async function rebaseOnto(
  cwd: string,
  onto: string,
  env?: NodeJS.ProcessEnv,
): Promise<{ ok: true } | { ok: false; conflicts: string[] }> {
  if (
    (await gitAsync(['rebase', '--quiet', '--no-autostash', '--end-of-options', onto], { cwd, env }))
      .status === 0
  )
    return { ok: true };
  const conflicts = (await gitAsync(['diff', '--name-only', '--diff-filter=U'], { cwd })).stdout
    .split('\n')
    .filter(Boolean);
  await gitAsync(['rebase', '--abort'], { cwd, env });
  return { ok: false, conflicts };
}

/** The git dir of the folder `cwd`, or what git said when it could not tell. */
export function gitDirAt(cwd: string): { gitDir: string } | { problem: string } {
  const r = git(['rev-parse', '--git-dir'], { cwd });
  return r.status === 0
    ? { gitDir: r.stdout.trim() }
    : { problem: r.stderr.trim().split('\n')[0] || `exit ${r.status}` };
}

/** Where git looks for the hooks of the worktree at `worktree`. */
export function hooksPathAt(worktree: string): string | undefined {
  const r = git(['rev-parse', '--git-path', 'hooks'], { cwd: worktree });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Every file git tracks in this worktree, from its top. */
export function allTrackedFiles(repo: Repo): string[] {
  return git(['ls-files', '-z'], { cwd: repo.top }).stdout.split('\0').filter(Boolean);
}

/** Which of `files` git tracks. */
export function trackedFiles(repo: Repo, files: string[]): string[] {
  if (files.length === 0) return [];
  return git(['ls-files', '-z', '--', ...files], { cwd: repo.top })
    .stdout.split('\0')
    .filter(Boolean);
}
