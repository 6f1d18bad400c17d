import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { environmentError } from '../core/errors.js';
import { localStateFile, readJson, writeJson } from '../core/local-state.js';
import { git, gitOut } from './run.js';

/** Where a command runs: the worktree that is checked out, and its git folders. */
export interface Repo {
  /** Real path of the top of the worktree. */
  top: string;
  /** This worktree's own git folder (for a linked worktree, .git/worktrees/<name>). */
  gitDir: string;
  /** The folder shared by all worktrees: refs, objects, config. */
  commonDir: string;
  /** The directory the command was started in (real path). */
  cwd: string;
}

const MIN_GIT = [2, 38] as const;

export function openRepo(cwd = process.cwd()): Repo {
  const found = findRepo(realpathSync(cwd));
  if (found === 'none') throw notARepository();
  if (found) {
    checkGitVersion(cwd, localStateFile(found.commonDir, 'git-version.json'));
    return found;
  }
  return askGit(cwd);
}

/**
 * The repository around `cwd`, found as git finds it, for the common case only: a worktree
 * whose .git is a folder or a `gitdir:` file, a linked worktree's `commondir`, or GIT_DIR as
 * git sets it for a hook (the worktree is then the current folder). Hooks run on every
 * checkout, push and tool call, and this saves them a git process ('none': no repository
 * around at all, as for a tool call on a file elsewhere). Anything less plain (the
 * other variables that steer git's search, core.worktree, a bare repository, a per-worktree
 * configuration) is left to git itself: undefined.
 */
function findRepo(cwd: string): Repo | 'none' | undefined {
  const env = process.env;
  if (
    env.GIT_WORK_TREE ||
    env.GIT_COMMON_DIR ||
    env.GIT_CEILING_DIRECTORIES ||
    env.GIT_DISCOVERY_ACROSS_FILESYSTEM
  )
    return undefined;
  let top = cwd;
  let gitDir: string | undefined;
  if (env.GIT_DIR) gitDir = path.resolve(cwd, env.GIT_DIR);
  else {
    for (;;) {
      gitDir = dotGit(top);
      if (gitDir) break;
      // A folder that may itself be a git folder (a bare repository) is git's to judge.
      if (existsSync(path.join(top, 'HEAD'))) return undefined;
      const up = path.dirname(top);
      // No .git up to the root, as git would have searched (the variables that change its
      // search are left to git above): not a repository, no process needed to say so.
      if (up === top) return 'none';
      top = up;
    }
  }
  const common = readText(path.join(gitDir, 'commondir'));
  const commonDir = common ? path.resolve(gitDir, common.trim()) : gitDir;
  const config = readText(path.join(commonDir, 'config'));
  if (config === undefined || /^\s*(worktree\s*=|bare\s*=\s*true)/im.test(config)) return undefined;
  if (
    readText(path.join(gitDir, 'HEAD')) === undefined ||
    statSync(path.join(gitDir, 'config.worktree'), { throwIfNoEntry: false })
  )
    return undefined;
  return { top, gitDir, commonDir, cwd };
}

/** The git folder a `.git` in `dir` names: the folder itself, or where its `gitdir:` line points. */
function dotGit(dir: string): string | undefined {
  const dot = path.join(dir, '.git');
  const stat = statSync(dot, { throwIfNoEntry: false });
  if (stat?.isDirectory()) return dot;
  if (!stat?.isFile()) return undefined;
  const line = /^gitdir: (.+)$/m.exec(readText(dot) ?? '');
  return line ? path.resolve(dir, line[1]!.trim()) : undefined;
}

const readText = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

const notARepository = () =>
  environmentError(
    'Not inside a git repository: run git consortium inside the consortium repository (or one of its worktrees).',
  );

function askGit(cwd: string): Repo {
  const result = git(['rev-parse', '--show-toplevel', '--absolute-git-dir', '--git-common-dir'], { cwd });
  if (result.status !== 0) {
    if (/not a git repository/i.test(result.stderr)) throw notARepository();
    if (/must be run in a work tree|this operation must be run in a work tree/i.test(result.stderr)) {
      throw environmentError('This is a bare repository: git consortium needs a checked-out worktree.');
    }
    throw environmentError(
      `git cannot read this repository: ${result.stderr.trim().split('\n')[0] ?? 'unknown error'}`,
    );
  }
  const [top, gitDir, common] = result.stdout.split('\n');
  if (!top || !gitDir || !common)
    throw environmentError('This is a bare repository: git consortium needs a checked-out worktree.');
  const realCwd = realpathSync(cwd);
  const commonDir = path.resolve(realCwd, common);
  checkGitVersion(cwd, localStateFile(commonDir, 'git-version.json'));
  return { top: realpathSync(top), gitDir, commonDir, cwd: realCwd };
}

export function gitVersion(cwd?: string): [number, number, number] {
  const text = gitOut(['version'], { cwd });
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) return [0, 0, 0];
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

/**
 * Refuses a git older than 2.38. Asking git costs a process on every command, hooks included,
 * so a passed check is remembered by the size and time of the git found on PATH: a different
 * git asks again.
 */
function checkGitVersion(cwd: string, memo: string) {
  const binary = gitOnPath();
  if (binary && readMemo(memo) === binary) return;
  const [major, minor, patch] = gitVersion(cwd);
  if (major < MIN_GIT[0] || (major === MIN_GIT[0] && minor < MIN_GIT[1])) {
    throw environmentError(
      `git ${major}.${minor}.${patch} is too old: git-consortium needs git ${MIN_GIT.join('.')} or newer (for git merge-tree --write-tree).`,
    );
  }
  if (binary) writeMemo(memo, binary);
}

/** `path:size:mtime` of the git that a spawn of "git" runs, or undefined when it is not found. */
export function gitOnPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, 'git');
    const stat = statSync(file, { throwIfNoEntry: false });
    if (stat?.isFile()) return `${file}:${stat.size}:${stat.mtimeMs}`;
  }
  return undefined;
}

const readMemo = (file: string): string | undefined => readJson<{ git?: string }>(file)?.git;

/** Not writable: the check simply runs again next time. */
const writeMemo = (file: string, binary: string) => writeJson(file, { git: binary });

/** The checked-out branch (`refs/heads/` stripped), or undefined on a detached HEAD. */
export function currentBranch(repo: Repo): string | undefined {
  let head: string;
  try {
    head = readFileSync(path.join(repo.gitDir, 'HEAD'), 'utf8').trim();
  } catch {
    return undefined;
  }
  return head.startsWith('ref: refs/heads/') ? head.slice('ref: refs/heads/'.length) : undefined;
}

/** The commit id a revision names, or undefined when it names none. */
/**
 * The commit each object id peels to (a tag to its commit), undefined for a tree, a blob or an
 * unknown id: one `cat-file --batch-check` for all of them, however many a push names.
 */
export function peelCommits(repo: Repo, ids: string[]): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  if (ids.length === 0) return out;
  const r = git(['cat-file', '--batch-check=%(objectname) %(objecttype)'], {
    cwd: repo.top,
    input: `${ids.map((id) => `${id}^{commit}`).join('\n')}\n`,
  });
  const lines = r.stdout.split('\n');
  ids.forEach((id, i) => {
    const [sha, type] = (lines[i] ?? '').split(' ');
    out.set(id, type === 'commit' ? sha : undefined);
  });
  return out;
}

export function resolveCommit(repo: Repo, revision: string): string | undefined {
  const result = git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${revision}^{commit}`], {
    cwd: repo.top,
  });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

export function gitConfigValue(repo: Repo, key: string): string | undefined {
  const result = git(['config', '--get', key], { cwd: repo.top });
  return result.status === 0 ? result.stdout.trim() || undefined : undefined;
}

/** The real path of a folder, or the path itself when it does not exist (any more). */
export function realPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/**
 * A bare repository (where the server's gate runs), as a Repo whose top is its git folder:
 * every git command runs there. Refused, saying why, when `dir` is not a bare repository.
 */
export function openBareRepo(dir: string): Repo {
  // In a hook, git names the repository (GIT_DIR): read as git would, without a process.
  if (process.env.GIT_DIR) {
    const gitDir = path.resolve(dir, process.env.GIT_DIR);
    const config = readText(path.join(gitDir, 'config'));
    if (config && /^\s*bare\s*=\s*true\s*$/im.test(config) && existsSync(path.join(gitDir, 'HEAD'))) {
      const real = realpathSync(gitDir);
      return { top: real, gitDir: real, commonDir: real, cwd: real };
    }
  }
  const r = git(['rev-parse', '--is-bare-repository', '--absolute-git-dir'], { cwd: dir });
  if (r.status !== 0)
    throw environmentError(`${dir} is not a git repository: ${r.stderr.trim().split('\n')[0] ?? ''}`);
  const [bare, gitDir = dir] = r.stdout.trim().split('\n');
  if (bare !== 'true')
    throw environmentError(
      `${dir} is not a bare repository: the gate on the server goes into the repository everyone pushes to (a bare one, given with --repo PATH).`,
    );
  const real = realpathSync(gitDir);
  return { top: real, gitDir: real, commonDir: real, cwd: real };
}
