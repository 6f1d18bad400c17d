import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import path from 'node:path';
import { researcherOfBranch } from '../core/branches.js';
import { iso, now } from '../core/clock.js';
import { ConsortiumError, usageError } from '../core/errors.js';
import { branchStamp, isSessionId, researcherIdProblem, shown } from '../core/ids.js';
import { loadConfig } from '../core/load-config.js';
import { researchersOf, workspaceFolderOf, workspaceOwner } from '../core/workspaces.js';
import { gitDirAt } from '../git/worktrees.js';
import { type CheckpointData, renderCheckpoint } from '../render/checkpoint.js';

export type { CheckpointData } from '../render/checkpoint.js';

/**
 * Writing emergency checkpoints (SPEC section 6 `checkpoint`): when git itself cannot be used (a
 * broken repository, no git on PATH, GIT_DIR pointing nowhere, a stuck lock), the state of the
 * work is written as a plain file, found and read without git. The next `start` or `sync`,
 * with git working again, folds each pending file into a session record and moves it to
 * folded/, and the record remembers the file's name: a checkpoint is never folded twice.
 */
export const CHECKPOINT_DIR = path.join('.claude', 'emergency-sessions');

/** The top of the worktree, found by walking up to a `.git` folder or file, without git. */
export function findTopWithoutGit(start: string): { top: string; dotGit: string | null } {
  let dir = path.resolve(start);
  for (;;) {
    const candidate = path.join(dir, '.git');
    if (existsSync(candidate)) return { top: dir, dotGit: candidate };
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return { top: path.resolve(process.env.GIT_WORK_TREE || start), dotGit: null };
}

/** The checked-out branch, read from HEAD as a file (a linked worktree's .git file points to it). */
export function branchWithoutGit(dotGit: string | null): string | null {
  if (!dotGit) return null;
  try {
    let gitDir = dotGit;
    if (statSync(dotGit).isFile()) {
      const pointer = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1]?.trim();
      if (!pointer) return null;
      gitDir = path.resolve(path.dirname(dotGit), pointer);
    }
    const head = readFileSync(path.join(gitDir, 'HEAD'), 'utf8').trim();
    if (head.startsWith('ref: refs/heads/')) return head.slice('ref: refs/heads/'.length);
    return /^[0-9a-f]{40,64}$/.test(head) ? `(detached at ${head.slice(0, 10)})` : null;
  } catch {
    return null;
  }
}

/** What git says when asked about this folder: the reason the checkpoint was needed. */
function probeGit(cwd: string): string {
  try {
    const found = gitDirAt(cwd);
    if ('gitDir' in found) return 'git could read the repository when the checkpoint was written';
    return `git failed: ${found.problem}`;
  } catch (error) {
    return error instanceof ConsortiumError ? error.message : 'git could not be started';
  }
}

/** Who is checkpointing, from what can be known without git. */
async function researcherWithoutGit(
  top: string,
  cwd: string,
  flag: string | undefined,
  branch: string | null,
): Promise<{ id: string | null; source: string | null }> {
  if (flag !== undefined) {
    const problem = researcherIdProblem(flag);
    if (problem)
      throw usageError(`${shown(flag)} from --researcher is not a valid researcher id: ${problem}.`);
    return { id: flag, source: '--researcher' };
  }
  const env = process.env.CONSORTIUM_RESEARCHER;
  if (env && !researcherIdProblem(env)) return { id: env, source: 'CONSORTIUM_RESEARCHER' };
  let config: Awaited<ReturnType<typeof loadConfig>> | undefined;
  try {
    config = await loadConfig(top);
  } catch {
    // A broken configuration must not stop an emergency checkpoint.
  }
  const researchers = config ? researchersOf(config, top) : new Map();
  const relative = path.relative(top, cwd).split(path.sep).join('/');
  if (relative && !relative.startsWith('..')) {
    const owner = workspaceOwner(researchers, relative);
    if (owner) return { id: owner, source: 'workspace folder' };
    const folder = config && !config.researchersListed ? workspaceFolderOf(config, relative) : undefined;
    if (folder && !researcherIdProblem(folder)) return { id: folder, source: 'workspace folder' };
  }
  if (branch) {
    const id = researcherOfBranch(branch, config?.sessions.branchPrefix ?? 'claude-', researchers.keys());
    if (id && !researcherIdProblem(id)) return { id, source: `branch ${branch}` };
  }
  return { id: null, source: null };
}

export async function writeCheckpoint(options: {
  cwd: string;
  message: string;
  researcher?: string;
  session?: string;
}): Promise<{ file: string; data: CheckpointData; inRepository: boolean }> {
  const { top, dotGit } = findTopWithoutGit(options.cwd);
  const branch = branchWithoutGit(dotGit);
  const who = await researcherWithoutGit(top, options.cwd, options.researcher, branch);
  const rawSession = options.session ?? (process.env.CONSORTIUM_SESSION || undefined);
  if (options.session !== undefined && !isSessionId(options.session))
    throw usageError(`${shown(options.session)} from --session is not a session id.`);
  const stamp = now();
  const data: CheckpointData = {
    format: 1,
    at: iso(stamp),
    message: options.message,
    researcher: who.id,
    researcherSource: who.source,
    session: rawSession && isSessionId(rawSession) ? rawSession : null,
    branch,
    top,
    cwd: options.cwd,
    host: process.env.CONSORTIUM_HOST || safe(hostname) || 'unknown',
    user: safe(() => userInfo().username) || process.env.USER || 'unknown',
    git: probeGit(options.cwd),
  };
  const dir = path.join(top, CHECKPOINT_DIR);
  mkdirSync(dir, { recursive: true });
  const base = `session-${branchStamp(stamp)}`;
  for (let n = 1; ; n++) {
    const file = path.join(dir, `${base}${n === 1 ? '' : `-${n}`}.md`);
    try {
      writeFileSync(file, renderCheckpoint(data), { flag: 'wx' });
      return { file, data, inRepository: dotGit !== null };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || n > 1000) throw error;
    }
  }
}

function safe(f: () => string): string {
  try {
    return f();
  } catch {
    return '';
  }
}
