import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { environmentError } from '../core/errors.js';
import { childProcess } from '../core/lazy-modules.js';
import { runBounded } from '../core/process.js';
import { batchSshCommand, type SshSettings } from './ssh-command.js';

/**
 * The only place that starts git. Arguments are always passed as an array, never through a
 * shell; callers put user values after `--end-of-options` or `--` where git could read them
 * as options.
 */
export interface GitResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface GitOptions {
  cwd?: string;
  input?: string;
  env?: NodeJS.ProcessEnv;
}

/** Environment for every git we start: never prompt, and write commits with a known identity. */
export function gitEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', ...extra };
}

/**
 * git commands that never move a ref. Any other command run through here may have (update-ref,
 * fetch, notes add, ...), so it starts a new generation and readers of refs read them afresh
 * (git/refs.ts keeps what it read for the current generation).
 */
const READS_ONLY = new Set([
  'cat-file',
  'check-ref-format',
  'diff',
  'diff-tree',
  'for-each-ref',
  'hash-object',
  'log',
  'ls-files',
  'ls-remote',
  'merge-base',
  'merge-tree',
  'mktree',
  'rev-list',
  'rev-parse',
  'show',
  'show-ref',
  'version',
]);

/** `notes list` and the reading forms of `config` read only, too. */
const readsOnly = ([command = '', ...rest]: string[]) =>
  READS_ONLY.has(command) ||
  (command === 'notes' && rest.includes('list')) ||
  (command === 'config' && rest.some((a) => /^--get(-all|-regexp)?$/.test(a)));

let generation = 0;

/** Changes whenever a git command that may have moved a ref has run in this process. */
export const refGeneration = () => generation;

/** For git started elsewhere (engine.ts): refs read before may be stale. */
export const refsMayHaveMoved = () => {
  generation++;
};

/**
 * A time by which every git this process starts must have finished (the server's gate is
 * bounded as a whole, SPEC section 13): each one is given what is left, and one still
 * running then is killed and throws GitDeadline.
 */
let deadline: number | undefined;
export const setGitDeadline = (atMs: number | undefined) => {
  deadline = atMs;
};
export class GitDeadline extends Error {}

function timeLeft(args: string[]): number | undefined {
  if (deadline === undefined) return undefined;
  const left = deadline - Date.now();
  if (left <= 0) throw new GitDeadline(`out of time before git ${args[0]}`);
  return left;
}

export function git(args: string[], options: GitOptions = {}): GitResult {
  if (!readsOnly(args)) generation++;
  const result = childProcess().spawnSync('git', args, {
    cwd: options.cwd,
    input: options.input,
    env: gitEnv(options.env),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: timeLeft(args),
  });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === 'ETIMEDOUT') throw new GitDeadline(`git ${args[0]} ran out of time`);
    if (code === 'ENOENT') throw environmentError('git is not installed or not on PATH.');
    throw environmentError(`git could not be started: ${result.error.message}`);
  }
  return { status: result.status ?? 128, stdout: result.stdout, stderr: result.stderr };
}

/** git whose output is bytes, not text (object contents), read as bytes. */
export function gitBytes(args: string[], options: GitOptions = {}): { status: number; stdout: Buffer } {
  if (!readsOnly(args)) generation++;
  const result = childProcess().spawnSync('git', args, {
    cwd: options.cwd,
    input: options.input,
    env: gitEnv(options.env),
    maxBuffer: 256 * 1024 * 1024,
    timeout: timeLeft(args),
  });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT')
    throw new GitDeadline(`git ${args[0]} ran out of time`);
  if (result.error) throw environmentError(`git could not be started: ${result.error.message}`);
  return { status: result.status ?? 128, stdout: result.stdout };
}

/** Runs git and returns its output; a failure is an error naming the git command. */
export function gitOut(args: string[], options: GitOptions = {}): string {
  const result = git(args, options);
  if (result.status !== 0) {
    const detail = result.stderr.trim().split('\n')[0] ?? '';
    throw environmentError(`git ${args[0]} failed${detail ? `: ${detail}` : '.'}`);
  }
  return result.stdout;
}

export interface NetworkOptions extends GitOptions {
  timeoutMs: number;
  /** False for a command that changes no local ref (ls-remote, a push of our own refs). */
  movesLocalRefs?: boolean;
}

/**
 * Runs a git command that may talk to a remote, within a time limit. git starts helpers
 * (ssh, git-remote-http) that outlive a killed git, so it runs in its own process group and
 * the whole group is killed on time-out. Neither asks anyone anything: GIT_TERMINAL_PROMPT=0
 * for git's own prompts, BatchMode for ssh (added to the user's own ssh command, see
 * ssh-command.ts), and a lowest speed over HTTP.
 */
export function gitNetwork(
  args: string[],
  options: NetworkOptions,
): Promise<GitResult & { timedOut: boolean }> {
  const seconds = Math.max(1, Math.ceil(options.timeoutMs / 1000));
  const given = { ...process.env, ...options.env };
  const sshCommand = batchSshCommand(given, sshSettings(options.cwd), seconds);
  const env = gitEnv({ ...options.env, ...(sshCommand && { GIT_SSH_COMMAND: sshCommand }) });
  const fullArgs = ['-c', 'http.lowSpeedLimit=1000', '-c', `http.lowSpeedTime=${seconds}`, ...args];
  // A fetch moves refs while it runs and until it ends: what was read before is stale.
  const moves = options.movesLocalRefs !== false;
  if (moves) generation++;
  return runBounded('git', fullArgs, {
    cwd: options.cwd,
    env,
    input: options.input,
    timeoutMs: options.timeoutMs,
  }).then((r) => {
    if (moves) generation++;
    return {
      ...r,
      timedOut: r.timedOut || gaveUpWaiting(r),
      status: r.status === 127 && !r.stdout ? 128 : r.status,
    };
  });
}

/**
 * ssh's own ConnectTimeout (the same bound as ours) or curl's may end a network call a moment
 * before our timer does, on a loaded machine: the remote did not answer in time all the same.
 * Only when the remote said nothing: not a push it answered (git's porcelain lines), and not
 * the remote's own lines (`remote: ...`), which may quote anyone's words.
 */
function gaveUpWaiting(r: { status: number; stdout: string; stderr: string }): boolean {
  if (r.status === 0 || r.stdout.trim()) return false;
  return r.stderr.split('\n').some((line) => !line.startsWith('remote:') && /\btimed out\b/i.test(line));
}

/**
 * core.sshCommand and ssh.variant where a network call runs, read once per folder and process:
 * one git process, against the network call's tens of milliseconds at least, and none at all
 * for a command that never talks to the remote.
 */
const sshSettingsOf = new Map<string, SshSettings | (() => SshSettings)>();

/** Where the settings come from a command's other settings (context.ts): no git process of their own. */
export const knowSshSettings = (cwd: string, settings: () => SshSettings) => sshSettingsOf.set(cwd, settings);

function sshSettings(cwd: string | undefined): SshSettings {
  const key = cwd ?? '';
  const known = sshSettingsOf.get(key);
  if (typeof known === 'function') {
    const settings = known();
    sshSettingsOf.set(key, settings);
    return settings;
  }
  if (known) return known;
  const out = git(['config', '-z', '--get-regexp', '^(core\\.sshcommand|ssh\\.variant)$'], { cwd }).stdout;
  const settings: SshSettings = {};
  for (const entry of out.split('\0')) {
    const split = entry.indexOf('\n');
    if (split < 0) continue;
    const name = entry.slice(0, split);
    // The last value wins, as git reads a single-valued key.
    if (name === 'core.sshcommand') settings.sshCommand = entry.slice(split + 1);
    else if (name === 'ssh.variant') settings.variant = entry.slice(split + 1);
  }
  sshSettingsOf.set(key, settings);
  return settings;
}

/**
 * git as another machine's user runs it, for the sandboxes of the demo and the tests: exactly
 * the environment given (its own HOME, identity and PATH), nothing of ours added.
 */
export function gitAs(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; input?: string },
): GitResult {
  const r = childProcess().spawnSync('git', args, {
    cwd: options.cwd,
    env: options.env,
    input: options.input,
    encoding: 'utf8',
  });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** The same, without waiting: for races between processes. */
export function gitAsChild(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): ChildProcessWithoutNullStreams {
  return childProcess().spawn('git', args, { cwd: options.cwd, env: options.env });
}
