import { lstatSync, readFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import { localStateFile, readJson, writeJson } from '../core/local-state.js';
import { configMatching } from './config.js';
import { gitOnPath, type Repo } from './repo.js';
import { git } from './run.js';
import { stampOf, stampTrusted } from './stamps.js';

/**
 * git config answers kept between commands. Every command and hook reads a few settings
 * (core.hooksPath, user.email, core.sshCommand, consortium.*), and asking git costs a process,
 * which for `status` is the only one it would start. The answer is kept with the stamp of
 * every file git reads configuration from (system, global, the repository's, the worktree's),
 * taken before git was asked, and given again while every stamp is the same and can vouch for
 * its file (git/stamps.ts). Whatever the files cannot tell is asked of git every time: `git -c`
 * and GIT_CONFIG_COUNT settings, and any file with an include (its targets, and the conditions
 * of includeIf, are git's to follow).
 */
const CACHE = 'git-config-cache.json';

interface Answer {
  /** What else decides the answer: the git binary, the environment git reads its files by. */
  key: string;
  /** When the stamps were taken. */
  at: number;
  /** Each file git reads, with its stamp ('-' when absent). */
  files: [file: string, stamp: string][];
  entries: [name: string, value: string][];
}

interface Cache {
  /** Where this git keeps its system configuration, by the binary and GIT_CONFIG_SYSTEM. */
  system?: { key: string; file: string };
  answers?: Record<string, Answer>;
}

/** configMatching(repo, pattern), from the kept answer when the configuration files have not changed. */
export function configMatchingKept(repo: Repo, pattern: string): Map<string, string> {
  const env = process.env;
  // Settings given on git's command line or in the environment live in no file.
  if (env.GIT_CONFIG_PARAMETERS || env.GIT_CONFIG_COUNT) return configMatching(repo, pattern);
  const binary = gitOnPath();
  if (!binary) return configMatching(repo, pattern);
  const file = localStateFile(repo.commonDir, CACHE);
  const cache = readJson<Cache>(file) ?? {};
  const system = systemFile(repo, cache, binary);
  if (!system) return configMatching(repo, pattern);
  const key = JSON.stringify([
    binary,
    repo.gitDir,
    ...[
      'HOME',
      'XDG_CONFIG_HOME',
      'GIT_CONFIG_GLOBAL',
      'GIT_CONFIG_SYSTEM',
      'GIT_CONFIG_NOSYSTEM',
      'GIT_DIR',
    ].map((name) => env[name] ?? null),
  ]);
  const kept = cache.answers?.[pattern];
  if (isAnswer(kept) && kept.key === key && kept.files.every(([f, stamp]) => stillStamped(f, stamp, kept.at)))
    return new Map(kept.entries);

  const at = Date.now();
  const files = configFiles(repo, system.file).map((f): [string, string] => [f, stampNow(f)]);
  const entries = [...configMatching(repo, pattern)];
  // An include reads files (and under conditions) that these stamps do not cover: that answer
  // is git's to give every time, though where the system file lives is still worth keeping.
  const keepable = files.every(([f, stamp]) => stamp === '-' || !includes(f));
  const answers = { ...cache.answers };
  if (keepable) answers[pattern] = { key, at, files, entries };
  else delete answers[pattern];
  if (keepable || cache.system !== system || kept) writeJson(file, { system, answers } satisfies Cache);
  return new Map(entries);
}

/** The files git reads configuration from, in its order (the system's, the user's, the repository's). */
function configFiles(repo: Repo, system: string): string[] {
  const env = process.env;
  const home = env.HOME;
  const global = env.GIT_CONFIG_GLOBAL
    ? [env.GIT_CONFIG_GLOBAL]
    : [
        ...(home ? [path.join(home, '.gitconfig')] : []),
        ...(env.XDG_CONFIG_HOME || home
          ? [path.join(env.XDG_CONFIG_HOME || path.join(home!, '.config'), 'git', 'config')]
          : []),
      ];
  return [system, ...global, path.join(repo.commonDir, 'config'), path.join(repo.gitDir, 'config.worktree')];
}

/**
 * Where this git reads its system configuration, which depends on how it was built (/etc, its
 * own prefix): git names it to the editor of `git config --system --edit`, here `echo`, which
 * edits nothing. Asked once per git binary.
 */
function systemFile(repo: Repo, cache: Cache, binary: string): Cache['system'] | undefined {
  const key = `${binary}\0${process.env.GIT_CONFIG_SYSTEM ?? ''}`;
  if (cache.system?.key === key && typeof cache.system.file === 'string') return cache.system;
  const r = git(['config', '--system', '--edit'], {
    cwd: repo.top,
    env: { GIT_EDITOR: 'echo', VISUAL: '', EDITOR: '' },
  });
  const named = r.stdout.trim();
  return r.status === 0 && path.isAbsolute(named) ? { key, file: named } : undefined;
}

function statOf(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch {
    return undefined;
  }
}

const stampNow = (file: string) => {
  const stat = statOf(file);
  return stat ? stampOf(stat) : '-';
};

function stillStamped(file: string, stamp: string, at: number): boolean {
  const stat = statOf(file);
  if (!stat) return stamp === '-';
  return stampOf(stat) === stamp && stampTrusted(stat, at);
}

/** Whether a configuration file has an [include] or [includeIf "..."] section (any case). */
function includes(file: string): boolean {
  try {
    return /^\s*\[\s*include/im.test(readFileSync(file, 'utf8'));
  } catch {
    return true; // unreadable here: git's to judge every time
  }
}

function isAnswer(value: unknown): value is Answer {
  const a = value as Answer | undefined;
  return (
    !!a &&
    typeof a.key === 'string' &&
    typeof a.at === 'number' &&
    Array.isArray(a.files) &&
    a.files.every((f) => Array.isArray(f) && typeof f[0] === 'string' && typeof f[1] === 'string') &&
    Array.isArray(a.entries) &&
    a.entries.every((e) => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string')
  );
}
