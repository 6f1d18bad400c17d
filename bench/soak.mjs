// The soak benchmark (issue 14): one bare remote, N clones of it with the hooks installed and
// R researchers, each clone driven by its own async loop of random operations through the
// built CLI, as real concurrent processes, for M minutes; a clone without hooks pushes
// meanwhile, as the baseline. Then it reads the remote and checks what must always hold:
// every session there with its creator's last write, never two overlapping leases live in
// any version of the lease table, no two sessions on one branch, every note and gate event
// present, `git fsck` clean, and no stack trace or exit code outside 0-3 anywhere (hostile
// inputs included). Exits 1 when any of that fails. Speed is reported, not failed on.
//
//   node bench/soak.mjs [--clones 8] [--minutes 2] [--researchers 3] [--seed 1] [--faults 0]
//                       [--think 300] [--lines warn|block|off] [--foreground] [--keep]
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { minimatch } from 'minimatch';
import { patternsOverlap } from '../dist/analysis/leases.js';
import { CLI } from './lib.mjs';

const { values: opt } = parseArgs({
  options: {
    clones: { type: 'string', default: '8' },
    minutes: { type: 'string', default: '2' },
    researchers: { type: 'string', default: '3' },
    seed: { type: 'string', default: String(Date.now() % 100000) },
    faults: { type: 'string', default: '0' },
    think: { type: 'string', default: '300' },
    // policy.lines of the consortium: `off` shows what the line index costs the others.
    lines: { type: 'string', default: 'warn' },
    // Everything the toolkit leaves to a detached process done in the foreground instead
    // (CONSORTIUM_NO_BACKGROUND=1, as the tests run): what the first rounds' figures measured.
    foreground: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const CLONES = positive('clones', opt.clones);
const MINUTES = positive('minutes', opt.minutes);
const RESEARCHERS = positive('researchers', opt.researchers);
const SEED = Number(opt.seed) >>> 0;
const FAULTS = Number(opt.faults);
const THINK_MS = Number(opt.think);
if (!['warn', 'block', 'off'].includes(opt.lines)) {
  console.error(`soak: --lines takes warn, block or off, not ${JSON.stringify(opt.lines)}.`);
  process.exit(2);
}
/** An operation still running after this long is a hang: it is killed and counted as a crash. */
const HANG_MS = 120_000;

function positive(name, text) {
  const n = Number(text);
  if (!(n > 0)) {
    console.error(`soak: --${name} takes a positive number, not ${JSON.stringify(text)}.`);
    process.exit(2);
  }
  return n;
}

/** mulberry32: small, seedable, good enough to pick operations reproducibly. */
function random(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (n) => Math.floor(next() * n);
  next.pick = (list) => list[next.int(list.length)];
  /** Picks a key of `weights` ({key: weight}) in proportion to its weight. */
  next.weighted = (weights) => {
    const entries = Object.entries(weights).filter(([, w]) => w > 0);
    let r = next() * entries.reduce((sum, [, w]) => sum + w, 0);
    for (const [key, w] of entries) {
      r -= w;
      if (r < 0) return key;
    }
    return entries[entries.length - 1][0];
  };
  return next;
}

// ---------------------------------------------------------------------------------------
// The world: a bare remote seeded with a small consortium, and one folder per machine.

const NAMES = ['elena-vasquez', 'yuki-tanaka', 'aria-blackwood'];
const researchers = Array.from({ length: RESEARCHERS }, (_, i) => NAMES[i] ?? `researcher-${i + 1}`);
/** One gate per researcher, each requiring the one before: unlocks and reopens race in order. */
const gates = researchers.map((owner, i) => ({ id: `G${i + 1}`, owner, requires: i ? [`G${i}`] : [] }));

const CONFIG = `workspaces: consortium/*
researchers:
${researchers.map((r) => `  ${r}: {}`).join('\n')}
protocol: [protocol/**, TCP_SPECIFICATION.md]
gates:
${gates.map((g) => `  ${g.id}: { title: Gate ${g.id}, owner: ${g.owner}, requires: [${g.requires.join(', ')}] }`).join('\n')}
policy: { lines: ${opt.lines} }
`;

const SEED_FILES = {
  'consortium.config.yaml': CONFIG,
  'TCP_SPECIFICATION.md': '# TCP specification\n',
  'protocol/spec.md': '# Protocol\n',
  'protocol/handshake.md': '# Handshake\n',
  'src/shared.py': '# shared\n',
  'src/window.py': '# window\n',
  ...Object.fromEntries(researchers.map((r) => [`consortium/${r}/notes.md`, `# ${r}\n`])),
};

/**
 * Lease patterns that overlap each other in many ways (a folder glob and a file in it, a
 * top-level glob and a top-level file, a brace set), so that racing acquisitions meet.
 */
const leasePatterns = (me) => [
  'protocol/**',
  'protocol/spec.md',
  'protocol/*.md',
  'TCP_SPECIFICATION.md',
  '*.md',
  'src/**',
  'src/shared.py',
  '{src,protocol}/s*',
  `consortium/${me}/**`,
];

const root = mkdtempSync(path.join(tmpdir(), 'gc-soak-'));
const bin = path.join(root, 'bin');
const remote = path.join(root, 'remote.git');
/** Hostile inputs try to make git run this; it must never exist. */
const canary = path.join(root, 'pwned');
mkdirSync(bin);
symlinkSync(CLI, path.join(bin, 'git-consortium'));

/**
 * A machine's environment, built from nothing rather than from ours: an agent's variables
 * (CLAUDECODE, AI_AGENT) or a CONSORTIUM_* setting of whoever runs the soak must not leak in,
 * since overrides here are made as a person.
 */
function machineEnv(name, researcher) {
  const home = path.join(root, 'home', name);
  mkdirSync(home, { recursive: true });
  return {
    PATH: `${bin}${path.delimiter}${process.env.PATH}`,
    HOME: home,
    TMPDIR: process.env.TMPDIR ?? tmpdir(),
    LANG: 'C',
    NO_COLOR: '1',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: name,
    GIT_AUTHOR_EMAIL: `${name}@example.org`,
    GIT_COMMITTER_NAME: name,
    GIT_COMMITTER_EMAIL: `${name}@example.org`,
    CONSORTIUM_HOST: name,
    // As on a researcher's machine, the work nobody waits for (a push's records and notes, the
    // line index) runs in detached processes; they carry this mark, so that the soak can wait
    // for them before it verifies.
    SOAK_RUN: root,
    // Every gate writes where its time went (src/core/phases.ts), for the breakdown in the report.
    CONSORTIUM_PHASES: path.join(root, 'phases.jsonl'),
    ...(opt.foreground && { CONSORTIUM_NO_BACKGROUND: '1' }),
    ...(researcher && { CONSORTIUM_RESEARCHER: researcher }),
  };
}

/** Setup and verification steps: synchronous, and a failure there is the soak's own. */
function must(command, args, { cwd, env, input } = {}) {
  const r = spawnSync(command, args, { cwd, env, input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0)
    throw new Error(`${command} ${args.join(' ').slice(0, 200)} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function writeFile(dir, file, content) {
  mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  writeFileSync(path.join(dir, file), content);
}

function seedRemote() {
  const env = machineEnv('seed');
  const work = path.join(root, 'seed');
  must('git', ['init', '-q', '--bare', '-b', 'main', remote], { env });
  must('git', ['init', '-q', '-b', 'main', work], { env });
  for (const [file, content] of Object.entries(SEED_FILES)) writeFile(work, file, content);
  must('git', ['add', '-A'], { cwd: work, env });
  must('git', ['commit', '-q', '-m', 'The consortium repository'], { cwd: work, env });
  must('git', ['push', '-q', remote, 'main'], { cwd: work, env });
  rmSync(work, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------
// Running operations: every one is a real process, timed, its exit and stderr kept.

/** Per operation name: { ms: [], exits: {code: n} }. */
const stats = new Map();
/** Every problem found while running: crashes, hangs, hostile inputs not refused cleanly. */
const crashes = [];
const hostileFailures = [];
const gitFailures = [];
/** Processes running now, for fault injection: child -> clone. */
const running = new Map();
let faultsDone = 0;

const STACK = /^\s+at .+(:\d+:\d+\)?|\(native\)|<anonymous>)$|node:internal|Unhandled|uncaught/im;
/** husky prints this after a hook body fails; N is our exit code inside git's own. */
const HOOK_EXIT = /script failed \(code (\d+)\)/g;

function record(op, ms, code) {
  if (!stats.has(op)) stats.set(op, { ms: [], exits: {} });
  const s = stats.get(op);
  s.ms.push(ms);
  s.exits[code] = (s.exits[code] ?? 0) + 1;
}

/**
 * Runs one operation without blocking the other clones: spawn, not spawnSync. `op` names it
 * in the table; `kind` says how to judge it: 'cli' (our exit codes), 'git' (git's own, with
 * our hooks inside), 'hostile' (must be refused, 1-3, in a line or two) or 'plain'.
 */
function exec(clone, op, command, args, { input, env = {}, kind = 'cli', killable = true, expect } = {}) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, {
      cwd: clone.dir,
      env: { ...clone.env, ...env },
      // Its own process group, so a fault kills the whole operation (hooks and git included)
      // as a machine crash or kill -9 would.
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
    const entry = { clone, op, killed: false, hung: false, expect };
    if (killable) running.set(child, entry);
    const hang = setTimeout(() => {
      entry.hung = true;
      killGroup(child);
    }, HANG_MS);
    child.on('error', (error) => {
      stderr += String(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(hang);
      running.delete(child);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const result = { code, signal, stdout, stderr, ms, killed: entry.killed };
      judge(clone, op, kind, args, result, entry);
      resolve(result);
    });
  });
}

function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {}
}

const oneLine = (text) => text.trim().split('\n').slice(0, 3).join(' | ').slice(0, 300);

function judge(clone, op, kind, args, r, entry) {
  const where = `${clone.name} ${op}: ${shortArgs(args)}`;
  if (entry.hung) {
    crashes.push(`${where}: still running after ${HANG_MS / 1000} s (killed)`);
    return;
  }
  if (r.killed) return; // our own fault injection: neither a sample nor a crash
  record(op, r.ms, r.code);
  const output = `${r.stderr}\n${r.stdout}`;
  if (STACK.test(output)) crashes.push(`${where}: stack trace: ${oneLine(r.stderr || r.stdout)}`);
  if (kind === 'git' || kind === 'plain') {
    for (const [, code] of r.stderr.matchAll(HOOK_EXIT))
      if (Number(code) > 3) crashes.push(`${where}: a hook exited ${code}: ${oneLine(r.stderr)}`);
    if (r.code !== 0 && r.code !== 1)
      gitFailures.push(`${where}: git exited ${r.code}: ${oneLine(r.stderr)}`);
    return;
  }
  if (r.code === null || r.code < 0 || r.code > 3)
    crashes.push(`${where}: exit ${r.code ?? r.signal}: ${oneLine(r.stderr)}`);
  if (kind === 'hostile') {
    const lines = r.stderr.trim().split('\n').filter(Boolean);
    const expected = entry.expect ?? [1, 2, 3];
    if (!expected.includes(r.code)) hostileFailures.push(`${where}: exit ${r.code}, expected ${expected}`);
    else if (r.code !== 0 && (lines.length === 0 || lines.length > 2))
      hostileFailures.push(`${where}: ${lines.length} lines on stderr: ${oneLine(r.stderr)}`);
  }
}

const shortArgs = (args) =>
  args
    .map((a) => (a.length > 40 ? `${a.slice(0, 20)}...(${a.length} chars)` : a))
    .join(' ')
    .slice(0, 160);

const cli = (clone, op, args, options) => exec(clone, op, process.execPath, [CLI, ...args], options);
const git = (clone, op, args, options) => exec(clone, op, 'git', args, { kind: 'git', ...options });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------
// A clone's life: start, work, push, lease, gates, handoffs, sync, end, over and over.

/**
 * Hostile inputs: paths outside the repository, values that look like git options (the
 * --upload-pack and --output ones would write the canary if they ever reached git), huge
 * strings. Each must be refused (exit 1-3) in a line or two; `expect` widens that where
 * accepting is also right.
 */
const HUGE = 'x'.repeat(100_000);
const hostileInputs = (clone) => [
  { args: ['lease', 'acquire', '../../etc/passwd'] },
  { args: ['lease', 'acquire', ':/../outside'] },
  { args: ['lease', 'acquire', '--', '--upload-pack=x'] },
  { args: ['lease', 'acquire', HUGE] },
  { args: ['lease', 'acquire', 'protocol/**', '--ttl', 'soon'] },
  { args: ['start', '-r', '../evil'] },
  { args: ['start', '-r', '--upload-pack=x'] },
  { args: ['start', '-r', HUGE] },
  // --shared and a branch of their own, so that --from is read whatever session is active
  // here. (Without --branch, --shared keeps the current branch and ignores --from.)
  { args: ['start', '--shared', `--branch=hostile-${clone.name}`, `--from=--upload-pack=touch ${canary}`] },
  { args: ['start', '--shared', `--branch=hostile-${clone.name}`, `--from=--output=${canary}`] },
  { args: ['start', '--branch=--upload-pack=x'] },
  { args: ['start', '--branch', '../../x'] },
  { args: ['sync', `--remote=--upload-pack=touch ${canary}`] },
  { args: ['sync', '--remote', 'no-such-remote'] },
  { args: ['check', '--', `--output=${canary}`] },
  { args: ['heartbeat', '--session', '--upload-pack=x'] },
  { args: ['end', '--session', HUGE] },
  { args: ['gates', 'unlock', HUGE] },
  { args: ['gates', 'unlock', '--upload-pack=x'] },
  { args: ['handoff', '--summary-file', path.join(clone.dir, 'no', 'such', 'file')] },
  { args: ['audit', '--since', '--upload-pack=x'] },
  { args: ['frobnicate'] },
  // A huge but well-formed summary may be accepted; it must not crash.
  { args: ['handoff', '--summary-file', '-'], input: `# Summary\n\n${HUGE}\n`, expect: [0, 1, 2, 3] },
];

const WEIGHTS = {
  heartbeat: 8,
  commit: 20,
  push: 14,
  acquire: 12,
  release: 8,
  gates: 6,
  handoff: 5,
  sync: 7,
  status: 4,
  end: 4,
  hostile: 3,
};

function makeClone(i) {
  const name = `m${String(i + 1).padStart(2, '0')}`;
  const researcher = researchers[i % researchers.length];
  const dir = path.join(root, name);
  const env = machineEnv(name, researcher);
  must('git', ['clone', '-q', remote, dir], { env });
  must(process.execPath, [CLI, 'init'], { cwd: dir, env });
  return {
    name,
    researcher,
    dir,
    env,
    rng: random(SEED * 1000 + i),
    session: null,
    /** Session ids this clone ended with an `end` that exited 0. */
    ended: new Set(),
    /** Sessions during whose life one of this clone's operations was killed. */
    faulted: new Set(),
    /** Per session: successful handoffs and overrides, each of which must leave a note. */
    handoffs: new Map(),
    overrides: new Map(),
    /** Unique notes of the gate changes this clone made: each must be in the history. */
    gateNotes: [],
    held: new Set(),
    hostile: i,
    n: 0,
  };
}

const bump = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);

async function cloneLoop(clone, deadline) {
  while (Date.now() < deadline) {
    const op = clone.session ? clone.rng.weighted(WEIGHTS) : clone.rng() < 0.85 ? 'start' : 'hostile';
    if (await step(clone, op)) await afterFault(clone);
    if (THINK_MS) await sleep(clone.rng.int(THINK_MS));
  }
}

/** One operation; returns whether a fault killed it. */
async function step(clone, op) {
  const c = clone;
  const rng = c.rng;
  c.n++;
  switch (op) {
    case 'start': {
      const r = await cli(c, 'start', ['start', '--intent', `soak ${c.name} #${c.n}`, '--json']);
      if (r.code === 0) {
        const s = JSON.parse(r.stdout);
        c.session = { id: s.id, branch: s.branch };
        c.held.clear();
      }
      return r.killed;
    }
    case 'heartbeat':
      return (await cli(c, 'heartbeat', ['heartbeat'])).killed;
    case 'commit': {
      const file = rng.pick([
        `consortium/${c.researcher}/${c.name}.md`,
        'protocol/spec.md',
        'TCP_SPECIFICATION.md',
        'src/shared.py',
        `src/${c.name}.py`,
      ]);
      writeFile(c.dir, file, `${c.name} ${c.session.id} #${c.n}\n`);
      const add = await git(c, 'git add', ['add', '--', file], { killable: false });
      if (add.code !== 0) return false;
      return (await git(c, 'commit', ['commit', '-q', '-m', `${c.name} #${c.n}: ${file}`])).killed;
    }
    case 'push': {
      const r = await git(c, 'push', ['push', '-q', 'origin', 'HEAD']);
      if (r.killed || r.code === 0 || !/push blocked/.test(r.stderr)) return r.killed;
      // Blocked by the gate: a person looks, decides, and pushes anyway with a reason.
      const o = await git(c, 'push (override)', ['push', '-q', 'origin', 'HEAD'], {
        env: { CONSORTIUM_OVERRIDE: `soak: ${c.name} #${c.n} pushes past the gate` },
      });
      // Only a push the gate still blocks is an override: by now the other session may have
      // ended, and then the push simply goes through, with no override to record.
      if (o.code === 0 && /override recorded/.test(o.stderr)) bump(c.overrides, c.session.id);
      return o.killed;
    }
    case 'acquire': {
      const pattern = rng.pick(leasePatterns(c.researcher));
      const r = await cli(c, 'lease acquire', ['lease', 'acquire', pattern, '--reason', `soak ${c.name}`]);
      if (r.code === 0) c.held.add(pattern);
      return r.killed;
    }
    case 'release': {
      const held = [...c.held];
      const args = held.length && rng() < 0.7 ? [rng.pick(held)] : ['--all'];
      const r = await cli(c, 'lease release', ['lease', 'release', ...args]);
      if (r.code === 0) {
        if (args[0] === '--all') c.held.clear();
        else c.held.delete(args[0]);
      }
      return r.killed;
    }
    case 'gates': {
      const mine = gates.filter((g) => g.owner === c.researcher);
      if (!mine.length || rng() < 0.3) return (await cli(c, 'gates list', ['gates', '--json'])).killed;
      const verb = rng() < 0.6 ? 'unlock' : 'reopen';
      const note = `soak ${c.name} #${c.n} ${verb}`;
      const r = await cli(c, `gates ${verb}`, ['gates', verb, rng.pick(mine).id, '--note', note, '--json']);
      if (r.code === 0 && JSON.parse(r.stdout).changed) c.gateNotes.push(note);
      return r.killed;
    }
    case 'handoff': {
      const summary = `# Summary\n\n${c.name} step ${c.n}.\n\n## Next steps\n\n- carry on\n`;
      const r = await cli(c, 'handoff', ['handoff', '--summary-file', '-'], { input: summary });
      if (r.code === 0) bump(c.handoffs, c.session.id);
      return r.killed;
    }
    case 'sync':
      return (await cli(c, 'sync', ['sync', '--quiet'])).killed;
    case 'status':
      return (await cli(c, 'status', ['status', '--json'])).killed;
    case 'end': {
      const id = c.session.id;
      const r = await cli(c, 'end', ['end', '--json']);
      if (r.code === 0) {
        c.ended.add(id);
        c.session = null;
      }
      return r.killed;
    }
    case 'hostile': {
      // In turn rather than at random, so that a run of any length tries every one.
      const list = hostileInputs(c);
      const h = list[c.hostile++ % list.length];
      const options = { input: h.input, kind: 'hostile', expect: h.expect };
      return (await exec(c, 'hostile', process.execPath, [CLI, ...h.args], options)).killed;
    }
    default:
      throw new Error(`unknown operation ${op}`);
  }
}

/**
 * After one of its operations was killed, a clone does what a person would: removes git's
 * own index lock if the kill left one, runs `recover`, and finds out which session (if any)
 * is still current here, since the killed operation may or may not have written.
 */
async function afterFault(clone) {
  if (clone.session) clone.faulted.add(clone.session.id);
  rmSync(path.join(clone.dir, '.git', 'index.lock'), { force: true });
  await cli(clone, 'recover', ['recover'], { killable: false });
  const r = await cli(clone, 'status', ['status', '--json'], { killable: false });
  if (r.code !== 0) return;
  const branch = must('git', ['branch', '--show-current'], { cwd: clone.dir, env: clone.env }).trim();
  const mine = JSON.parse(r.stdout).sessions.find(
    (s) => s.host === clone.name && s.state === 'active' && s.branch === branch,
  );
  clone.session = mine ? { id: mine.id, branch: mine.branch } : null;
  if (mine) clone.faulted.add(mine.id);
}

const PLAIN_PUSH = 'plain git push (baseline)';
const FLOOR_PUSH = 'push, hook only starts Node';

/**
 * The baselines, pushing one new commit a second meanwhile, each on a branch of its own: a
 * clone without hooks (the plain push), and a clone whose pre-push hook, run by the same husky
 * runner as ours, reads git's input and starts Node doing nothing (`node -e 0`): what no gate
 * written for Node.js can go below, on the same machine under the same load.
 */
async function baselineLoop(deadline, name, op, hooksFrom) {
  const dir = path.join(root, name);
  const env = machineEnv(name);
  must('git', ['clone', '-q', remote, dir], { env });
  if (hooksFrom) {
    const hooks = path.join(root, `${name}-hooks`);
    cpSync(path.join(hooksFrom, '.git', 'consortium', 'hooks', '_'), path.join(hooks, '_'), {
      recursive: true,
    });
    writeFileSync(path.join(hooks, 'pre-push'), `input=$(cat)\n"${process.execPath}" -e 0\n`);
    must('git', ['config', 'core.hooksPath', path.join(hooks, '_')], { cwd: dir, env });
  }
  const clone = { name, dir, env };
  for (let i = 0; Date.now() < deadline; i++) {
    writeFile(dir, `${name}.txt`, `${i}\n`);
    must('git', ['add', `${name}.txt`], { cwd: dir, env });
    must('git', ['commit', '-qm', `${name} ${i}`], { cwd: dir, env });
    await exec(clone, op, 'git', ['push', '-q', 'origin', `HEAD:refs/heads/${name}`], {
      kind: 'plain',
      killable: false,
    });
    await sleep(1000);
  }
}

/**
 * Waits until no detached process of this soak is left (they carry SOAK_RUN in their
 * environment; /proc says which do), so that what they share is on the remote before it is
 * read. Returns how many there were when it started waiting.
 */
async function settleBackground(limitMs = 120_000) {
  const mark = `SOAK_RUN=${root}\0`;
  const alive = () => {
    let n = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
      try {
        if (`${readFileSync(`/proc/${pid}/environ`, 'latin1')}\0`.includes(mark)) n++;
      } catch {}
    }
    return n;
  };
  if (!existsSync('/proc/self/environ')) return sleep(10_000).then(() => 0);
  const first = alive();
  for (const end = Date.now() + limitMs; Date.now() < end && alive() > 0; ) await sleep(200);
  return first;
}

/** Kills `FAULTS` operations at random moments of the run, each a random one running then. */
async function faultLoop(deadline, rng) {
  const times = Array.from({ length: FAULTS }, () => rng() * (deadline - Date.now())).sort((a, b) => a - b);
  const begin = Date.now();
  for (const at of times) {
    await sleep(Math.max(0, begin + at - Date.now()));
    const candidates = [...running.entries()];
    if (!candidates.length) continue;
    const [child, entry] = rng.pick(candidates);
    entry.killed = true;
    killGroup(child);
    faultsDone++;
  }
}

// ---------------------------------------------------------------------------------------
// Reading the remote afterwards: records straight from git, cross-checked with the CLI.

/** Every record commit under a ref prefix: ref -> { commit, body }, in one git process. */
function readRecords(dir, prefix) {
  const out = must('git', ['for-each-ref', '--format=%(refname)%00%(objectname)%00%(contents)%01', prefix], {
    cwd: dir,
  });
  const records = new Map();
  for (const chunk of out.split('\x01')) {
    const [ref, commit, message] = chunk.replace(/^\n/, '').split('\0');
    if (!ref) continue;
    const split = message.indexOf('\n\n');
    let body;
    try {
      body = JSON.parse(message.slice(split + 2));
    } catch {
      body = undefined;
    }
    records.set(ref, { commit, body });
  }
  return records;
}

/** Note lines of a notes ref: "<commit> <line>" for every line of every note. */
function noteLines(dir, ref) {
  const has = spawnSync('git', ['rev-parse', '-q', '--verify', ref], { cwd: dir });
  if (has.status !== 0) return new Set();
  const tree = must('git', ['ls-tree', '-r', ref], { cwd: dir }).trim().split('\n').filter(Boolean);
  const entries = tree.map((l) => {
    const [, , blob, file] = l.split(/\s+/);
    return { blob, commit: file.replace(/\//g, '') };
  });
  const out = must('git', ['cat-file', '--batch'], {
    cwd: dir,
    input: entries.map((e) => e.blob).join('\n'),
  });
  const lines = new Set();
  let at = 0;
  for (const e of entries) {
    const header = out.indexOf('\n', at);
    const size = Number(out.slice(at, header).split(' ')[2]);
    const text = Buffer.from(out.slice(header + 1))
      .subarray(0, size)
      .toString();
    at = header + 1 + Buffer.byteLength(text) + 1;
    for (const line of text.split('\n')) if (line.trim()) lines.add(`${e.commit} ${line}`);
  }
  return lines;
}

function fsck(dir) {
  const r = spawnSync('git', ['fsck', '--no-progress', '--no-dangling'], { cwd: dir, encoding: 'utf8' });
  const bad = `${r.stdout}\n${r.stderr}`
    .split('\n')
    .filter((l) => /^(error|missing|broken|fatal|bad)/i.test(l));
  return r.status === 0 && bad.length === 0
    ? undefined
    : `${dir}: exit ${r.status}: ${oneLine(bad.join('\n'))}`;
}

/**
 * Paths that leases may meet on: the seed files, the files the clones write, and a few more
 * each glob can name. Two patterns overlap if the product's own test says so or if one of
 * these paths matches both (the concrete test catches the product's test saying no wrongly).
 */
function pathUniverse(clones) {
  const paths = new Set(Object.keys(SEED_FILES));
  for (const c of clones) {
    paths.add(`consortium/${c.researcher}/${c.name}.md`);
    paths.add(`src/${c.name}.py`);
  }
  for (const p of ['protocol/deep/x.md', 'src/deep/x.py', 'README.md', 'src/s.md']) paths.add(p);
  return [...paths];
}
const MATCH = { dot: true, nocomment: true, nonegate: true };
const concreteOverlap = (universe, a, b) =>
  universe.some((p) => (p === a || minimatch(p, a, MATCH)) && (p === b || minimatch(p, b, MATCH)));

function verify(clones) {
  const verifyDir = path.join(root, 'verify');
  const env = machineEnv('verify');
  must('git', ['clone', '-q', remote, verifyDir], { env });
  must(
    'git',
    ['fetch', '-q', 'origin', '+refs/consortium/*:refs/consortium/*', '+refs/notes/*:refs/notes/*'],
    {
      cwd: verifyDir,
      env,
    },
  );
  const g = (args, input) => must('git', args, { cwd: verifyDir, env, input });
  const problems = { lost: [], overlaps: [], collisions: [], notes: [], gates: [], fsck: [], hostile: [] };
  const sessions = new Map(); // id -> record body, as on the remote
  for (const [ref, { commit, body }] of readRecords(verifyDir, 'refs/consortium/sessions/')) {
    const id = ref.slice('refs/consortium/sessions/'.length);
    if (!body) problems.lost.push(`${ref} on the remote is unreadable`);
    else sessions.set(id, { ...body, commit });
  }

  // Every session with its creator's last write: the creator's final record is the remote's
  // or an ancestor of it, and what the creator did (end, commits) shows in the remote's copy.
  for (const c of clones) {
    const local = readRecords(c.dir, 'refs/consortium/sessions/');
    for (const [ref, { commit, body }] of local) {
      if (!body || body.host !== c.name) continue; // fetched from another machine
      const id = body.id;
      const theirs = sessions.get(id);
      const who = `${c.name} session ${id}`;
      if (!theirs) {
        problems.lost.push(`${who}: not on the remote`);
        continue;
      }
      const contains =
        commit === theirs.commit ||
        spawnSync('git', ['merge-base', '--is-ancestor', commit, theirs.commit], { cwd: verifyDir })
          .status === 0;
      if (!contains || theirs.seq < body.seq)
        problems.lost.push(
          `${who}: the creator's last write (${ref} ${commit.slice(0, 10)}, seq ${body.seq}) is not in the remote's history (${theirs.commit.slice(0, 10)}, seq ${theirs.seq})`,
        );
      if (c.ended.has(id) && theirs.state !== 'ended')
        problems.lost.push(`${who}: ended (end exited 0) but the remote says ${theirs.state}`);
      if (c.faulted.has(id) || !theirs.branch) continue; // a killed operation may have left either
      const tip = spawnSync('git', ['rev-parse', '-q', '--verify', `refs/heads/${theirs.branch}`], {
        cwd: c.dir,
        encoding: 'utf8',
      }).stdout.trim();
      if (tip && theirs.head !== tip)
        problems.lost.push(
          `${who}: its branch is at ${tip.slice(0, 10)}, the remote's record says ${theirs.head}`,
        );
      if (tip) {
        const changed = must('git', ['diff', '--name-only', `origin/main...${tip}`], { cwd: c.dir })
          .trim()
          .split('\n')
          .filter(Boolean)
          .sort();
        if (changed.join(' ') !== [...theirs.changedFiles].sort().join(' '))
          problems.lost.push(
            `${who}: its branch changes [${changed}], the remote's record says [${theirs.changedFiles}]`,
          );
      }
    }
  }

  // No two sessions share a branch.
  const byBranch = new Map();
  for (const [id, s] of sessions)
    if (s.branch) byBranch.set(s.branch, [...(byBranch.get(s.branch) ?? []), id]);
  for (const [branch, ids] of byBranch)
    if (ids.length > 1) problems.collisions.push(`${branch}: sessions ${ids.join(', ')}`);

  // Never two overlapping leases live: every version of the lease table, at the moment it
  // was written, against the holders' ends as the remote records them.
  const universe = pathUniverse(clones);
  const hasTable = spawnSync('git', ['rev-parse', '-q', '--verify', 'refs/consortium/leases'], {
    cwd: verifyDir,
  });
  const versions =
    hasTable.status === 0
      ? g(['log', '--format=%H%x00%B%x01', 'refs/consortium/leases'])
          .split('\x01')
          .filter((v) => v.trim())
      : [];
  for (const version of versions) {
    const [commit, message] = version.replace(/^\n/, '').split('\0');
    let table;
    try {
      table = JSON.parse(message.slice(message.indexOf('\n\n') + 2));
    } catch {
      problems.overlaps.push(`lease table ${commit.slice(0, 10)} is unreadable`);
      continue;
    }
    const at = Date.parse(table.change?.at ?? '');
    const live = table.leases.filter((l) => {
      const holder = sessions.get(l.session);
      if (holder?.endedAt && Date.parse(holder.endedAt) <= at) return false;
      const renewed = Math.max(Date.parse(l.acquiredAt), Date.parse(holder?.heartbeatAt ?? l.acquiredAt));
      return Number.isNaN(at) || renewed + l.ttlMs > at;
    });
    for (let i = 0; i < live.length; i++)
      for (let j = i + 1; j < live.length; j++) {
        const [a, b] = [live[i], live[j]];
        if (a.session === b.session) continue;
        const product = patternsOverlap(a.pattern, b.pattern);
        if (product || concreteOverlap(universe, a.pattern, b.pattern))
          problems.overlaps.push(
            `lease table seq ${table.seq} (${commit.slice(0, 10)}): ${a.pattern} (${a.session}) and ${b.pattern} (${b.session}) both live${product ? '' : ' (the product thinks they do not overlap)'}`,
          );
      }
  }

  // Every note present: each clone's notes (after its final sync) are all on the remote, and
  // every handoff and override that exited 0 left its note there.
  const remoteNotes = noteLines(verifyDir, 'refs/notes/consortium');
  const remoteEntries = [...remoteNotes].map((l) => {
    try {
      return JSON.parse(l.slice(41));
    } catch {
      return {};
    }
  });
  for (const c of clones) {
    let missing = 0;
    for (const line of noteLines(c.dir, 'refs/notes/consortium')) if (!remoteNotes.has(line)) missing++;
    if (missing) problems.notes.push(`${c.name}: ${missing} note lines of its own are not on the remote`);
    for (const [type, made] of [
      ['handoff', c.handoffs],
      ['override', c.overrides],
    ])
      for (const [session, n] of made) {
        const found = remoteEntries.filter((e) => e.type === type && e.session === session).length;
        if (found < n)
          problems.notes.push(`${c.name} session ${session}: ${n} ${type}s made, ${found} notes`);
      }
  }

  // Every gate event present: each change a clone made, found by its unique note.
  const cliVerify = (args) => JSON.parse(must(process.execPath, [CLI, ...args], { cwd: verifyDir, env }));
  const history = cliVerify(['gates', '--json']).gates.flatMap((gate) => gate.history);
  const seen = new Set(history.map((h) => h.note));
  for (const c of clones)
    for (const note of c.gateNotes)
      if (!seen.has(note)) problems.gates.push(`${c.name}: "${note}" is missing`);

  // The CLI's own reading of the remote agrees: audit lists every session.
  const audit = cliVerify(['audit', '--json']);
  const audited = new Set(audit.events.filter((e) => e.kind === 'session').map((e) => e.session));
  for (const id of sessions.keys())
    if (!audited.has(id)) problems.lost.push(`audit does not list session ${id}`);

  for (const dir of [remote, ...clones.map((c) => c.dir)]) {
    const bad = fsck(dir);
    if (bad) problems.fsck.push(bad);
  }
  if (existsSync(canary)) problems.hostile.push(`a hostile input made git write ${canary}`);

  const counts = {
    sessions: sessions.size,
    ended: [...sessions.values()].filter((s) => s.state === 'ended').length,
    leaseVersions: versions.length,
    handoffs: audit.events.filter((e) => e.kind === 'handoff').length,
    overrides: audit.events.filter((e) => e.kind === 'override').length,
    gateEvents: history.length,
    notes: remoteNotes.size,
  };
  return { problems, counts };
}

// ---------------------------------------------------------------------------------------
// The report.

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summarize(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), max: s[s.length - 1] };
}

function printTable() {
  const rows = [...stats.entries()].sort(([a], [b]) => a.localeCompare(b));
  console.log(
    `\n${'operation'.padEnd(28)} ${'count'.padStart(6)} ${'p50'.padStart(7)} ${'p95'.padStart(7)} ${'max'.padStart(7)}  exits`,
  );
  for (const [op, s] of rows) {
    const { n, p50, p95, max } = summarize(s.ms);
    const exits = Object.entries(s.exits)
      .map(([code, k]) => `${code}:${k}`)
      .join(' ');
    console.log(
      `${op.padEnd(28)} ${String(n).padStart(6)} ${p50.toFixed(0).padStart(7)} ${p95.toFixed(0).padStart(7)} ${max.toFixed(0).padStart(7)}  ${exits}`,
    );
  }
  const gated = [...(stats.get('push')?.ms ?? []), ...(stats.get('push (override)')?.ms ?? [])];
  const plain = stats.get(PLAIN_PUSH)?.ms ?? [];
  const floor = stats.get(FLOOR_PUSH)?.ms ?? [];
  if (!gated.length || !plain.length) return { ratio: Number.NaN };
  const [g, p] = [summarize(gated), summarize(plain)];
  const ratio = g.p95 / p.p95;
  const ms = (s) => `p50 ${s.p50.toFixed(0)} ms, p95 ${s.p95.toFixed(0)} ms`;
  console.log(
    `\ngated git push (all ${g.n}): ${ms(g)}; plain push: ${ms(p)}; p95 ratio ${ratio.toFixed(2)}x (goal <= 3x)`,
  );
  if (floor.length) {
    const f = summarize(floor);
    console.log(
      `push whose hook only starts Node: ${ms(f)}, p95 ${(f.p95 / p.p95).toFixed(2)}x the plain push; the gated push's p95 is ${(g.p95 / f.p95).toFixed(2)}x it`,
    );
  }
  printPhases();
  return { ratio };
}

/** Where the gate's and sync's time went (CONSORTIUM_PHASES): each phase's p50 and p95 over the runs that had it. */
function printPhases() {
  let lines = [];
  try {
    lines = readFileSync(path.join(root, 'phases.jsonl'), 'utf8').split('\n').filter(Boolean);
  } catch {
    return;
  }
  const byWhat = new Map();
  for (const line of lines) {
    const { what, ...phases } = JSON.parse(line);
    const runs = byWhat.get(what) ?? { n: 0, phases: new Map() };
    runs.n++;
    for (const [name, took] of Object.entries(phases))
      runs.phases.set(name, [...(runs.phases.get(name) ?? []), took]);
    byWhat.set(what, runs);
  }
  for (const [what, { n, phases }] of byWhat) {
    const parts = [...phases].map(([name, all]) => {
      const { p50, p95 } = summarize(all);
      return `${name} ${p50.toFixed(0)}/${p95.toFixed(0)}${all.length < n ? ` (${all.length})` : ''}`;
    });
    console.log(`${what}: phases, p50/p95 ms over ${n} runs: ${parts.join(', ')}`);
  }
}

function show(title, list, limit = 10) {
  if (!list.length) return;
  console.log(`\n${title} (${list.length}):`);
  for (const line of list.slice(0, limit)) console.log(`  ${line}`);
  if (list.length > limit) console.log(`  ... and ${list.length - limit} more`);
}

// ---------------------------------------------------------------------------------------

async function main() {
  const t0 = Date.now();
  console.log(
    `soak: ${CLONES} clones x ${MINUTES} min, ${RESEARCHERS} researchers, seed ${SEED}, ${FAULTS} faults, in ${root}`,
  );
  seedRemote();
  const clones = Array.from({ length: CLONES }, (_, i) => makeClone(i));
  console.log(`set up in ${((Date.now() - t0) / 1000).toFixed(1)} s; running`);
  const deadline = Date.now() + MINUTES * 60_000;
  await Promise.all([
    ...clones.map((c) => cloneLoop(c, deadline)),
    baselineLoop(deadline, 'plain', PLAIN_PUSH),
    baselineLoop(deadline, 'floor', FLOOR_PUSH, clones[0].dir),
    faultLoop(deadline, random(SEED ^ 0x5eed)),
  ]);
  const detached = await settleBackground();
  // The product promises that everything reaches the remote no later than the next sync.
  // What a final sync could not share (the remote kept moving, copies diverged, records held
  // back or refused) it says on stderr and still exits 0: kept, since a lost update found
  // below is then explained by it.
  const unshared = [];
  for (const c of clones) {
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await cli(c, 'sync (final)', ['sync', '--quiet'], { killable: false });
      if (r.code !== 0) continue;
      for (const line of r.stderr.split('\n').filter((l) => l.trim()))
        unshared.push(`${c.name}: ${line.slice(0, 300)}`);
      break;
    }
  }
  await settleBackground();
  console.log(
    `ran ${((Date.now() - t0) / 1000).toFixed(1)} s (${detached} detached processes still at work at the end, waited for); verifying`,
  );
  const { problems, counts } = verify(clones);
  const { ratio } = printTable();
  console.log(
    `\nremote: ${counts.sessions} sessions (${counts.ended} ended), ${counts.leaseVersions} lease-table versions, ${counts.handoffs} handoffs, ${counts.overrides} overrides, ${counts.gateEvents} gate events, ${counts.notes} note lines; ${faultsDone} faults injected`,
  );
  show('lost updates', problems.lost);
  show('lease overlaps', problems.overlaps);
  show('branch collisions', problems.collisions);
  show('crashes (stack traces, exits outside 0-3, hangs)', crashes);
  show('hostile inputs not refused cleanly', [...hostileFailures, ...problems.hostile]);
  show('missing notes', problems.notes);
  show('missing gate events', problems.gates);
  show('git fsck', problems.fsck);
  show('git itself failed (not counted as a product crash)', gitFailures, 5);
  show('what the final syncs said (exit 0)', unshared);
  const failed =
    problems.lost.length +
    problems.overlaps.length +
    problems.collisions.length +
    crashes.length +
    hostileFailures.length +
    problems.hostile.length +
    problems.notes.length +
    problems.gates.length +
    problems.fsck.length;
  console.log(
    `\nlost updates ${problems.lost.length}, lease overlaps ${problems.overlaps.length}, branch collisions ${problems.collisions.length}, crashes ${crashes.length}, hostile ${hostileFailures.length + problems.hostile.length}, notes missing ${problems.notes.length}, gate events missing ${problems.gates.length}, fsck ${problems.fsck.length}; gated push p95 ${Number.isNaN(ratio) ? 'n/a' : `${ratio.toFixed(2)}x`} plain: ${ratio <= 3 ? 'within 3x' : 'NOT within 3x'}; ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  );
  // A run that found something keeps its clones and remote: the refs and objects are the evidence.
  if (opt.keep || failed) console.log(`kept ${root}${failed && !opt.keep ? ' (a check failed)' : ''}`);
  else rmSync(root, { recursive: true, force: true });
  return failed ? 1 : 0;
}

process.exitCode = await main();
