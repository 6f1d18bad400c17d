import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { iso, now } from '../core/clock.js';
import { environmentError } from '../core/errors.js';
import { localStateFile, readJson, writeJson } from '../core/local-state.js';
import { packageFile } from '../core/package-files.js';
import { importPackage } from '../core/packages.js';
import { addLocalConfig, configValues, setLocalConfig } from '../git/config.js';
import { refNames, updateRefs } from '../git/refs.js';
import { type Repo, realPath } from '../git/repo.js';
import { hooksPathAt, trackedFiles, worktreePaths } from '../git/worktrees.js';
import { NOTES_REF } from '../store/refs.js';

/**
 * The git hooks setup (SPEC sections 6 and 7): installing the hook bodies with husky, keeping
 * the hooks the repository already had, notes settings, and putting it all back.
 *
 * Where the hooks live, and why there: husky's usual `core.hooksPath=.husky/_` is relative,
 * and `.husky/_` is gitignored, so a linked worktree runs no hook until husky runs in it too.
 * Installing it from post-checkout when `git worktree add` fires it would miss worktrees made
 * with `--no-checkout` (no post-checkout at all), made while hooks were off (HUSKY=0,
 * CONSORTIUM=0, toolkit missing) or by tools that write the worktree themselves, and each
 * worktree would also need untracked `.husky/<name>` bodies. So husky is pointed at
 * `<git common dir>/consortium/hooks` instead, an absolute core.hooksPath in the shared
 * config: every worktree of the repository, however it was made (`git worktree add`,
 * `start --worktree`, Claude Code's .claude/worktrees/), runs the same hooks from the moment
 * it exists, and nothing appears in anyone's `git status`. The one thing that breaks it is
 * moving the repository's folder: `doctor` reports that and `init` repairs it.
 */
export const OUR_HOOKS = ['post-checkout', 'post-commit', 'pre-push', 'post-merge'] as const;

/** The hooks husky writes a stub for (husky 9's list). */
const HUSKY_HOOKS = [
  'pre-commit',
  'pre-merge-commit',
  'prepare-commit-msg',
  'commit-msg',
  'post-commit',
  'applypatch-msg',
  'pre-applypatch',
  'post-applypatch',
  'pre-rebase',
  'post-rewrite',
  'post-checkout',
  'post-merge',
  'pre-push',
  'pre-auto-gc',
];

/** Client-side hooks git runs from the hooks folder, besides husky's (chained when found). */
const OTHER_HOOKS = ['reference-transaction', 'push-to-checkout', 'post-index-change', 'sendemail-validate'];

/** The package's hook bodies (hooks/ at the top of the package). */
const BODIES = `${packageFile('hooks')}${path.sep}`;

export interface InstallRecord {
  format: 1;
  installedAt: string;
  hooksDir: string;
  /** What init found, so that uninstall can put it back exactly. */
  before: {
    hooksPath: string | null;
    notesRewriteRef: string[];
    notesRewriteAmend: string | null;
    notesRewriteRebase: string | null;
  };
}

export const consortiumDir = (repo: Repo) => localStateFile(realPath(repo.commonDir), '');
export const hooksDir = (repo: Repo) => path.join(consortiumDir(repo), 'hooks');
const recordFile = (repo: Repo) => localStateFile(realPath(repo.commonDir), 'install.json');

export function readInstallRecord(repo: Repo): InstallRecord | undefined {
  const record = readJson<InstallRecord>(recordFile(repo));
  return record && record.format === 1 && record.before ? record : undefined;
}

const configAll = (repo: Repo, key: string): string[] => configValues(repo, key, 'local');
const configOne = (repo: Repo, key: string): string | null => configAll(repo, key).at(-1) ?? null;

const setConfig = setLocalConfig;

/** Writes a file only when its content differs; true when it wrote. */
function writeIfChanged(file: string, content: string, mode: number): boolean {
  try {
    if (readFileSync(file, 'utf8') === content && (statSync(file).mode & 0o777) === mode) return false;
  } catch {
    // not there yet
  }
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content, { mode });
  chmodSync(file, mode);
  return true;
}

const isExecutable = (file: string) => {
  try {
    const st = statSync(file);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
};

/** Whether `hooksPath` (as configured) is ours, here and now. */
const isOurs = (repo: Repo, hooksPath: string | null) =>
  !!hooksPath && realPath(path.resolve(repo.top, hooksPath)) === path.join(hooksDir(repo), '_');

/** Ours, or the one this repository had before its folder was moved (gone, ending like ours). */
const wasOurs = (repo: Repo, hooksPath: string | null) =>
  isOurs(repo, hooksPath) ||
  (!!hooksPath &&
    path.isAbsolute(hooksPath) &&
    hooksPath.endsWith(`${path.sep}consortium${path.sep}hooks${path.sep}_`) &&
    !existsSync(hooksPath));

/** Hook names the repository already has somewhere: those get a body that chains them. */
function existingHooks(repo: Repo, previous: string | null): string[] {
  const found = new Set<string>();
  const known = new Set([...HUSKY_HOOKS, ...OTHER_HOOKS]);
  const look = (dir: string, test: (file: string) => boolean) => {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) if (known.has(name) && test(path.join(dir, name))) found.add(name);
  };
  look(path.join(repo.commonDir, 'hooks'), isExecutable);
  const husky = previous?.endsWith('/_') ? previous.slice(0, -2) : '.husky';
  look(path.resolve(repo.top, husky), (f) => existsSync(f));
  if (previous && !previous.endsWith('/_')) look(path.resolve(repo.top, previous), isExecutable);
  return [...found].sort();
}

export interface InstallOptions {
  /** Write the bodies and run husky even when everything looks current (a repair). */
  force?: boolean;
}

/**
 * Installs the hooks: returns what changed, one sentence each (empty: nothing to change).
 * The first install records what it found in install.json; later runs keep that record, so
 * that uninstall puts back what was there before the first init.
 */
export async function installHooks(repo: Repo, options: InstallOptions = {}): Promise<string[]> {
  const changes: string[] = [];
  const dir = hooksDir(repo);
  const stubs = path.join(dir, '_');
  const current = configOne(repo, 'core.hooksPath');
  const record = readInstallRecord(repo);
  // The hooks path to chain: what is configured now unless it is already ours (husky's
  // `prepare` script may have set .husky/_ again since the first init).
  const previous = wasOurs(repo, current) ? (record?.before.hooksPath ?? null) : current;
  const chained =
    previous && realPath(path.resolve(repo.top, previous)) === realPath(path.join(repo.commonDir, 'hooks'))
      ? null
      : previous;

  let wrote = 0;
  const body = (name: string) => readFileSync(path.join(BODIES, name), 'utf8');
  for (const name of OUR_HOOKS) if (writeIfChanged(path.join(dir, name), body(name), 0o755)) wrote++;
  if (writeIfChanged(path.join(dir, 'consortium.sh'), body('consortium.sh'), 0o644)) wrote++;
  const others = existingHooks(repo, chained).filter((n) => !(OUR_HOOKS as readonly string[]).includes(n));
  for (const name of others) if (writeIfChanged(path.join(dir, name), body('chain'), 0o755)) wrote++;
  const previousFile = path.join(dir, 'previous-hooks-path');
  if (chained && chained !== '.husky/_') {
    if (writeIfChanged(previousFile, `${chained}\n`, 0o644)) wrote++;
  } else if (existsSync(previousFile)) {
    unlinkSync(previousFile);
    wrote++;
  }
  if (wrote) changes.push(`wrote the hook bodies in ${dir}`);
  if (others.length && wrote) changes.push(`kept the repository's own hooks running: ${others.join(', ')}`);

  const huskyRunner = readFileSync(
    path.join(path.dirname(fileURLToPath(import.meta.resolve('husky'))), 'husky'),
    'utf8',
  );
  const stubsCurrent = (() => {
    try {
      return readFileSync(path.join(stubs, 'h'), 'utf8') === huskyRunner;
    } catch {
      return false;
    }
  })();
  if (options.force || !isOurs(repo, current) || !stubsCurrent) {
    await runHusky(repo, dir);
    changes.push(`installed the hooks with husky: core.hooksPath is now ${stubs}`);
  }
  // Stubs for the hooks outside husky's list, in husky's own form.
  for (const name of others.filter((n) => !HUSKY_HOOKS.includes(n)))
    writeIfChanged(path.join(stubs, name), '#!/usr/bin/env sh\n. "$(dirname "$0")/h"', 0o755);

  const before: InstallRecord['before'] = record?.before ?? {
    hooksPath: wasOurs(repo, current) ? null : current,
    notesRewriteRef: configAll(repo, 'notes.rewriteRef'),
    notesRewriteAmend: configOne(repo, 'notes.rewrite.amend'),
    notesRewriteRebase: configOne(repo, 'notes.rewrite.rebase'),
  };
  if (!configAll(repo, 'notes.rewriteRef').includes(NOTES_REF)) {
    if (!addLocalConfig(repo, 'notes.rewriteRef', NOTES_REF))
      throw environmentError('git config (notes) failed: notes.rewriteRef could not be set.');
    changes.push(`set notes.rewriteRef = ${NOTES_REF}, so notes follow amend and rebase`);
  }
  for (const key of ['notes.rewrite.amend', 'notes.rewrite.rebase']) {
    if (configOne(repo, key) !== 'true') {
      setConfig(repo, key, 'true');
      changes.push(`set ${key} = true`);
    }
  }
  if (!record) {
    const fresh: InstallRecord = { format: 1, installedAt: iso(now()), hooksDir: dir, before };
    if (!writeJson(recordFile(repo), fresh, { pretty: true }))
      throw environmentError(
        `${recordFile(repo)} could not be written: uninstall would not know what to put back.`,
      );
  }
  return changes;
}

/** husky works on the current directory: run it at the top of the worktree. */
async function runHusky(repo: Repo, dir: string): Promise<void> {
  // An ES-only package, outside the bundles: it finds its own files from where it lies.
  const husky = (await importPackage<typeof import('husky')>('husky')).default;
  const cwd = process.cwd();
  const saved = process.env.HUSKY;
  // `init` is an explicit request to install: HUSKY=0 (common in CI) only skips husky's own
  // installs from package scripts.
  delete process.env.HUSKY;
  let message: string;
  try {
    process.chdir(repo.top);
    message = husky(dir);
  } finally {
    process.chdir(cwd);
    if (saved !== undefined) process.env.HUSKY = saved;
  }
  if (message) throw environmentError(`husky could not install the hooks: ${message.trim()}`);
}

/** Puts back what init changed in the hooks setup; returns what it did. */
export function uninstallHooks(repo: Repo): string[] {
  const changes: string[] = [];
  const record = readInstallRecord(repo);
  const current = configOne(repo, 'core.hooksPath');
  if (wasOurs(repo, current)) {
    const back = record?.before.hooksPath ?? null;
    setConfig(repo, 'core.hooksPath', back);
    changes.push(
      back ? `core.hooksPath is ${back} again` : 'removed core.hooksPath (git uses .git/hooks again)',
    );
  } else if (current && record) {
    changes.push(`left core.hooksPath = ${current} alone: it was changed after init`);
  }
  if (record) {
    const refs = configAll(repo, 'notes.rewriteRef');
    if (refs.includes(NOTES_REF) && !record.before.notesRewriteRef.includes(NOTES_REF)) {
      setConfig(repo, 'notes.rewriteRef', null);
      for (const ref of refs.filter((r) => r !== NOTES_REF)) addLocalConfig(repo, 'notes.rewriteRef', ref);
      changes.push(`removed notes.rewriteRef = ${NOTES_REF}`);
    }
    for (const [key, value] of [
      ['notes.rewrite.amend', record.before.notesRewriteAmend],
      ['notes.rewrite.rebase', record.before.notesRewriteRebase],
    ] as const) {
      if (configOne(repo, key) !== value) {
        setConfig(repo, key, value);
        changes.push(value === null ? `removed ${key}` : `${key} is ${value} again`);
      }
    }
  }
  const dir = hooksDir(repo);
  if (existsSync(dir)) {
    rmSync(dir, { recursive: true, force: true });
    changes.push(`removed ${dir}`);
  }
  if (record) rmSync(recordFile(repo), { force: true });
  return changes;
}

export interface WorktreeHooks {
  worktree: string;
  active: boolean;
  /** Why not, when not. */
  problem?: string;
}

/**
 * Whether the toolkit's hooks run in a worktree: the hooks folder git uses there is ours.
 * `hooks`: that folder, when the caller knows it already (else git is asked).
 */
export function worktreeHooks(repo: Repo, worktree: string, hooks = hooksPathAt(worktree)): WorktreeHooks {
  if (hooks === undefined) return { worktree, active: false, problem: 'git cannot read this worktree' };
  const used = realPath(path.resolve(worktree, hooks));
  const ours = path.join(hooksDir(repo), '_');
  if (used !== ours) {
    return {
      worktree,
      active: false,
      problem: existsSync(hooksDir(repo))
        ? `git runs the hooks in ${used}, not the toolkit's (${ours}): run git consortium init`
        : 'the hooks are not installed: run git consortium init',
    };
  }
  const missing = [
    'h',
    ...OUR_HOOKS.map((n) => n),
    ...OUR_HOOKS.map((n) => `../${n}`),
    '../consortium.sh',
  ].filter((f) => !existsSync(path.join(ours, f)));
  if (missing.length)
    return {
      worktree,
      active: false,
      problem: `hook files are missing (${missing.join(', ')}): run git consortium init`,
    };
  return { worktree, active: true };
}

/** Hooks of the repository that appeared after init and are not chained yet. */
export function unchainedHooks(repo: Repo): string[] {
  const record = readInstallRecord(repo);
  const dir = hooksDir(repo);
  return existingHooks(repo, record?.before.hooksPath ?? null).filter((n) => !existsSync(path.join(dir, n)));
}

/** Every worktree of the repository (main first), as git lists them. */
export const worktreesOf = (repo: Repo): string[] => worktreePaths(repo);

/**
 * The consortium's old scripts left `.claude-session-*` lock files (at the top and in the
 * workspaces) and `refs/claude/session-*` refs; the toolkit's sessions replace both.
 */
export interface Leftovers {
  files: string[];
  /** Lock files git tracks: reported, not removed (that is a change to commit). */
  tracked: string[];
  refs: string[];
}

export function findLeftovers(repo: Repo, workspaces: string[]): Leftovers {
  const folders = [...new Set(['.', ...workspaces, ...workspaces.map((w) => path.posix.dirname(w))])];
  const files: string[] = [];
  for (const folder of folders) {
    let names: string[] = [];
    try {
      names = readdirSync(path.join(repo.top, folder));
    } catch {
      continue;
    }
    for (const name of names)
      if (name.startsWith('.claude-session-')) files.push(path.posix.join(folder, name));
  }
  const unique = [...new Set(files)].sort();
  const tracked = trackedFiles(repo, unique);
  const refs = refNames(repo, ['refs/claude/']).filter((r) => r.startsWith('refs/claude/session-'));
  return { files: unique.filter((f) => !tracked.includes(f)), tracked, refs };
}

export function removeLeftovers(repo: Repo, leftovers: Leftovers): void {
  for (const file of leftovers.files) rmSync(path.join(repo.top, file), { force: true, recursive: true });
  updateRefs(
    repo,
    leftovers.refs.map((r) => `delete ${r}\n`),
  );
}
