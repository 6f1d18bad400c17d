import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname, userInfo } from 'node:os';
import path from 'node:path';
import type { Context } from '../context/context.js';
import { researcherOfBranch } from '../core/branches.js';
import { iso, now } from '../core/clock.js';
import { ConsortiumError, usageError } from '../core/errors.js';
import { branchStamp, isSessionId, researcherIdProblem, shown } from '../core/ids.js';
import { loadConfig } from '../core/load-config.js';
import { researchersOf, workspaceFolderOf, workspaceOwner } from '../core/workspaces.js';
import { gitDirAt } from '../git/worktrees.js';
import { type Session, updateSession } from '../store/sessions.js';
import { authorFor } from './sessions.js';

/**
 * Emergency checkpoints (SPEC section 6 `checkpoint`): when git itself cannot be used (a
 * broken repository, no git on PATH, GIT_DIR pointing nowhere, a stuck lock), the state of the
 * work is written as a plain file, found and read without git. The next `start` or `sync`,
 * with git working again, folds each pending file into a session record and moves it to
 * folded/, and the record remembers the file's name: a checkpoint is never folded twice.
 */
export const CHECKPOINT_DIR = path.join('.claude', 'emergency-sessions');
const MARK = '<!-- git-consortium checkpoint ';

export interface CheckpointData {
  format: 1;
  at: string;
  message: string;
  researcher: string | null;
  researcherSource: string | null;
  session: string | null;
  branch: string | null;
  top: string;
  cwd: string;
  host: string;
  user: string;
  git: string;
}

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
      writeFileSync(file, render(data), { flag: 'wx' });
      return { file, data, inRepository: dotGit !== null };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || n > 1000) throw error;
    }
  }
}

function render(d: CheckpointData): string {
  return [
    `# Emergency checkpoint, ${d.at}`,
    '',
    'Written by git consortium checkpoint when git could not be used. The next',
    '`git consortium start` or `git consortium sync` folds it into the session record.',
    '',
    `- Researcher: ${d.researcher ?? '(unknown)'}${d.researcherSource ? ` (from ${d.researcherSource})` : ''}`,
    `- Last known session: ${d.session ?? '(unknown)'}`,
    `- Branch: ${d.branch ?? '(unknown)'}`,
    `- Repository: ${d.top}`,
    `- Working directory: ${d.cwd}`,
    `- Host: ${d.host}, user ${d.user}`,
    `- Git: ${d.git}`,
    '',
    '## Message',
    '',
    d.message.trim() || '(no message)',
    '',
    `${MARK}${JSON.stringify(d).replace(/--/g, '-\\u002d')} -->`,
    '',
  ].join('\n');
}

export interface Pending {
  name: string;
  file: string;
  data: Partial<CheckpointData> & { message: string };
}

/** Checkpoint files not yet folded, oldest first. */
export function pendingCheckpoints(top: string): Pending[] {
  const dir = path.join(top, CHECKPOINT_DIR);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^session-.*\.md$/.test(n));
  } catch {
    return [];
  }
  return names.sort().flatMap((name) => {
    const file = path.join(dir, name);
    try {
      return [{ name, file, data: parse(readFileSync(file, 'utf8')) }];
    } catch {
      return [];
    }
  });
}

function parse(text: string): Pending['data'] {
  const line = text.split('\n').find((l) => l.startsWith(MARK));
  if (line) {
    try {
      const data = JSON.parse(line.slice(MARK.length, line.lastIndexOf(' -->')));
      if (data && typeof data === 'object' && typeof data.message === 'string') return data;
    } catch {
      // hand-edited: keep the whole text as the message
    }
  }
  return { message: text.trim() };
}

export interface Folded {
  name: string;
  session: string;
  message: string;
}

/**
 * Folds pending checkpoints into session records: into the checkpoint's own session when it
 * is known here, else into `fallback` (the session being started or resumed) when it is the
 * same researcher's. Others stay pending for a later start or sync.
 */
export function foldCheckpoints(ctx: Context, fallback?: Session): { folded: Folded[]; waiting: number } {
  const pending = pendingCheckpoints(ctx.repo.top);
  if (pending.length === 0) return { folded: [], waiting: 0 };
  const sessions = new Map(ctx.sessions().sessions.map((s) => [s.id, s]));
  const folded: Folded[] = [];
  let waiting = 0;
  for (const p of pending) {
    const own = p.data.session ? sessions.get(p.data.session) : undefined;
    const fits = fallback && (!p.data.researcher || p.data.researcher === fallback.researcher);
    const target = own ?? (fits ? fallback : undefined);
    if (!target) {
      waiting++;
      continue;
    }
    let added = false;
    updateSession(
      ctx.repo,
      target.id,
      'checkpoint',
      (record) => {
        const list = Array.isArray(record.extra?.checkpoints)
          ? (record.extra.checkpoints as { id?: unknown }[])
          : [];
        if (list.some((c) => c.id === p.name)) return undefined;
        added = true;
        const entry = { id: p.name, foldedAt: iso(now()), ...p.data };
        return { ...record, extra: { ...record.extra, checkpoints: [...list, entry] } };
      },
      authorFor(ctx, target.researcher),
    );
    const done = path.join(path.dirname(p.file), 'folded');
    try {
      mkdirSync(done, { recursive: true });
      renameSync(p.file, path.join(done, p.name));
    } catch {
      // Another process moved it first; the record's list keeps it from being folded twice.
    }
    if (added) folded.push({ name: p.name, session: target.id, message: p.data.message });
  }
  if (folded.length) ctx.invalidate();
  return { folded, waiting };
}

/** The line start and sync print, once, when they fold checkpoints. */
export function foldedLine(folded: Folded[]): string {
  const first = folded[0]!;
  return folded.length === 1
    ? `Folded the emergency checkpoint ${first.name} into session ${first.session}: ${firstLine(first.message)}`
    : `Folded ${folded.length} emergency checkpoints into session records: ${folded.map((f) => `${f.name} (session ${f.session})`).join(', ')}.`;
}

const firstLine = (text: string) => (text.trim().split('\n')[0] ?? '').slice(0, 200) || '(no message)';

function safe(f: () => string): string {
  try {
    return f();
  } catch {
    return '';
  }
}
