// Shared pieces of the benchmarks: timing of whole commands (median of several runs), the
// baseline every figure is divided by, counting git processes, and a scratch repository.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const CLI = path.resolve(import.meta.dirname, '..', 'dist', 'cli.cjs');

/**
 * Every figure is taken without NODE_EXTRA_CA_CERTS, the baseline's `node -e 0` included:
 * Node 20 reads that file as it starts (about 50 ms for Debian's 144 certificates here, where
 * `node -e 0` takes about 32 ms without it), so a session whose environment sets it, as this
 * machine's did until the sixth round of issue 14, measures every ratio against a baseline half
 * made of reading certificates. What the toolkit does where it is set is a figure of its own
 * (bench/hooks.mjs).
 */
export const EXTRA_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;
delete process.env.NODE_EXTRA_CA_CERTS;

/** Median wall time in milliseconds of running `command args` `runs` times. */
/** The middle of the samples (the upper one of the two middles for an even count). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export function time(command, args, { cwd, env, runs = 15, input } = {}) {
  const samples = [];
  for (let i = 0; i < runs + 2; i++) {
    const start = process.hrtime.bigint();
    // A large output (audit of 10,000 sessions) would pass spawnSync's 1 MB default and be killed.
    const r = spawnSync(command, args, {
      cwd,
      env: { ...process.env, ...env },
      input,
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0 && !env?.BENCH_ANY_EXIT)
      throw new Error(`${command} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    if (i >= 2) samples.push(ms); // two warm-up runs
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

export const nodeBaseline = (runs = 15) => time(process.execPath, ['-e', '0'], { runs });

/**
 * Like time(), for a command measured against `node -e 0`: every sample runs right after a
 * baseline of its own, and the ratio is the median of the samples' ratios, so that a machine
 * whose speed drifts during the run (another process, the CPU's clock) moves both sides of
 * it alike. A baseline measured once, minutes before, moved these ratios by a third from one
 * run to the next. `settle`: each sample starts once the detached work of the previous one is
 * done (backgroundSettled); `before`: called ahead of each sample (to reset what a run
 * leaves), `check`: given each run's result, throws when the run did not do what it should.
 */
export async function againstNode(command, args, { cwd, env, runs = 15, input, settle, before, check } = {}) {
  const bases = [];
  const times = [];
  const ratios = [];
  const once = (cmd, argv, options) => {
    const start = process.hrtime.bigint();
    const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 30, ...options });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0 && !env?.BENCH_ANY_EXIT)
      throw new Error(`${cmd} ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
    return { ms, r };
  };
  for (let i = 0; i < runs + 1; i++) {
    if (settle) await backgroundSettled();
    before?.();
    const base = once(process.execPath, ['-e', '0'], {}).ms;
    const { ms, r } = once(command, args, { cwd, env: { ...process.env, ...env }, input });
    check?.(r);
    if (i === 0) continue; // a warm-up run
    bases.push(base);
    times.push(ms);
    ratios.push(ms / base);
  }
  if (settle) await backgroundSettled();
  return { ms: median(times), base: median(bases), ratio: median(ratios) };
}

/**
 * Ratios to `node -e 0` that hold on a machine whose speed drifts: each round runs the
 * baseline and then every case once, and each case's figure is the median over the rounds of
 * its time divided by that round's baseline. `cases`: [label, { args, input?, before? }], run
 * as `node CLI ...args`; `before` is called ahead of each run (to reset what a run leaves).
 */
export function interleaved(cases, { cwd, env, rounds = 21 } = {}) {
  const once = (args, input) => {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, {
      cwd,
      env: { ...process.env, ...env },
      input,
      encoding: 'utf8',
    });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return ms;
  };
  const base = [];
  const ratios = cases.map(() => []);
  const times = cases.map(() => []);
  for (let round = 0; round < rounds + 2; round++) {
    const b = once(['-e', '0']);
    // The cases take turns at coming first (right after the baseline), so that no case is
    // always the one a machine waking from idle runs slowest.
    for (let k = 0; k < cases.length; k++) {
      const i = (k + round) % cases.length;
      const [, c] = cases[i];
      c.before?.();
      const ms = once([CLI, ...c.args], c.input);
      if (round < 2) continue; // warm-up rounds
      times[i].push(ms);
      ratios[i].push(ms / b);
    }
    if (round >= 2) base.push(b);
  }
  return {
    baseline: median(base),
    cases: cases.map(([label], i) => [label, median(times[i]), median(ratios[i])]),
  };
}

/** Wall time in milliseconds of one run of the CLI (for what cannot be repeated as it was). */
export function timeOnce(args, { cwd, env }) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * Median ms of a plain `git push` of one ref that really moves each time (two commits on the
 * empty tree, pushed in turn to refs/bench/one): the baseline of what a command pushes.
 */
export function pushBaseline(s, runs = 15) {
  const empty = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
  const tips = ['a', 'b'].map((m) => s.git(['commit-tree', empty, '-m', m]).trim());
  const samples = [];
  for (let i = 0; i < runs + 2; i++) {
    const start = process.hrtime.bigint();
    s.git(['push', '-q', '--force', 'origin', `${tips[i % 2]}:refs/bench/one`]);
    if (i >= 2) samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((x, y) => x - y);
  return samples[Math.floor(samples.length / 2)];
}

/**
 * The git processes a command starts, in order (`git` and its first argument): a `git` shim
 * first on PATH logs each call and runs the real git. `command` defaults to the CLI under Node.
 */
export function gitCalls(args, { cwd, env, input, command, warm, before, own } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'gc-gitcount-'));
  const real = spawnSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).stdout.trim();
  const log = path.join(dir, 'log');
  // Each call logged with the process that made it, so that `own` can keep the command's own,
  // and whether a detached process of the toolkit made it (src/core/process.ts marks them): their
  // work is off the user's path, and runs on after the command, into the next one's count.
  writeFileSync(
    path.join(dir, 'git'),
    `#!/bin/sh\necho "$PPID \${CONSORTIUM_BACKGROUND:-0} $*" >> "${log}"\nexec "${real}" "$@"\n`,
  );
  chmodSync(path.join(dir, 'git'), 0o755);
  const run = () =>
    spawnSync(command ?? process.execPath, command ? args : [CLI, ...args], {
      cwd,
      env: { ...process.env, ...env, PATH: `${dir}:${env?.PATH ?? process.env.PATH}` },
      input,
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
  // `warm`: a run first, uncounted. The shim is a git binary the toolkit has not seen, which its
  // version check and git config cache ask about once; a command repeated (a hook) pays that
  // only the first time.
  // `before`: called before each run (to reset what a run leaves behind).
  if (warm) {
    before?.();
    run();
    rmSync(log, { force: true });
  }
  before?.();
  const r = run();
  if (r.status !== 0 && !env?.BENCH_ANY_EXIT) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  // `own`: only the calls of the command's own process, not of the detached ones it leaves work
  // to (with background work allowed), which run on after it.
  let calls = [];
  try {
    calls = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' '))
      .filter(([pid, detached]) => detached === '0' && (!own || Number(pid) === r.pid))
      .map(([, , ...call]) => call.join(' '));
  } catch {}
  rmSync(dir, { recursive: true, force: true });
  if (process.env.BENCH_SHOW_GIT)
    console.log(`  git calls of ${args.join(' ')}:\n    ${calls.join('\n    ')}`);
  return calls;
}

/** How many git processes a command starts (see gitCalls). */
export const countGit = (args, options) => gitCalls(args, options).length;

/** A scratch repository with one commit and a bare remote, and the env of a fresh machine. */
export function scratch(name) {
  const root = mkdtempSync(path.join(tmpdir(), `gc-bench-${name}-`));
  const home = path.join(root, 'home');
  mkdirSync(home);
  const bin = path.join(root, 'bin');
  mkdirSync(bin);
  symlinkSync(CLI, path.join(bin, 'git-consortium'));
  const env = {
    HOME: home,
    PATH: `${bin}:${process.env.PATH}`,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'bench',
    GIT_AUTHOR_EMAIL: 'bench@example.org',
    GIT_COMMITTER_NAME: 'bench',
    GIT_COMMITTER_EMAIL: 'bench@example.org',
    NO_COLOR: '1',
    CONSORTIUM_NO_BACKGROUND: '1',
  };
  const repo = path.join(root, 'repo');
  const remote = path.join(root, 'remote.git');
  const git = (args, cwd = repo, extra = {}) => {
    const r = spawnSync('git', args, { cwd, env: { ...process.env, ...env, ...extra }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  git(['init', '-q', '--bare', '-b', 'main', remote], root);
  git(['init', '-q', '-b', 'main', repo], root);
  mkdirSync(path.join(repo, 'consortium', 'elena'), { recursive: true });
  writeFileSync(path.join(repo, 'consortium', 'elena', 'notes.md'), '# notes\n');
  writeFileSync(path.join(repo, 'consortium.config.yaml'), 'protocol: [protocol/**]\n');
  git(['add', '-A']);
  git(['commit', '-qm', 'seed']);
  git(['remote', 'add', 'origin', remote]);
  git(['push', '-q', 'origin', 'main']);
  return {
    root,
    repo,
    remote,
    env,
    git,
    // BENCH_KEEP=1 leaves the sandbox to look at (its path is printed).
    cleanup: () =>
      process.env.BENCH_KEEP
        ? console.log(`kept ${root}`)
        : rmSync(root, { recursive: true, force: true, maxRetries: 10 }),
  };
}

export const ratio = (ms, base) => `${(ms / base).toFixed(2)}x`;

/** A figure as the reports print it: time, ratio, and the git processes it starts. */
export const figure = (ms, base, gitCount) => timedFigure({ ms, ratio: ms / base }, gitCount);

/** The same for a figure of againstNode's, whose ratio comes with it. */
export const timedFigure = ({ ms, ratio }, gitCount) =>
  `${ms.toFixed(1)} ms  ${ratio.toFixed(2)}x${gitCount === undefined ? '' : `  (${gitCount} git)`}`;

export function report(title, rows) {
  console.log(`\n${title}`);
  for (const [label, value] of rows) console.log(`  ${label.padEnd(58)} ${value}`);
}

/**
 * Writes `n` active session records into the repository at `dir`, through the product's own
 * store, in this process. `fields(i)` overrides the defaults of session i.
 */
export async function writeSessions(dir, n, fields = () => ({}), from = 0) {
  const { openRepo } = await import('../dist/git/repo.js');
  const { createSession } = await import('../dist/store/sessions.js');
  const { newSessionId } = await import('../dist/core/ids.js');
  const repo = openRepo(dir);
  const at = new Date().toISOString();
  for (let i = from; i < from + n; i++) {
    createSession(
      repo,
      {
        id: newSessionId(new Date()),
        researcher: 'elena',
        branch: `claude-elena-${i}`,
        worktree: `/w/${i}`,
        host: `h${i % 7}`,
        user: 'u',
        email: null,
        agent: { kind: 'human' },
        intent: 'bench',
        shared: false,
        startedAt: at,
        startCommit: null,
        heartbeatAt: at,
        endedAt: null,
        state: 'active',
        head: null,
        changedFiles: [`src/f${i % 13}.py`],
        touchedFiles: [],
        ...fields(i),
      },
      { name: 'bench', email: 'bench@example.org' },
    );
  }
}

/** Waits (up to 10 s) until no detached process of ours (a share, a push record) still runs. */
export async function backgroundSettled() {
  for (let i = 0; i < 100; i++) {
    const r = spawnSync('pgrep', ['-f', `${CLI} (share|hook push-record)`]);
    if (r.status !== 0) return;
    await new Promise((done) => setTimeout(done, 100));
  }
}
