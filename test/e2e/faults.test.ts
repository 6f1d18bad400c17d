import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { patternsOverlap } from '../../src/analysis/leases.js';
import { CLI } from '../../src/demo/world.js';
import { consortium, json, type Machine, must } from '../helpers/sandbox.js';

/**
 * Fault injection: `sync`, `lease acquire` (and `start`, `heartbeat`, `end`, `lease release`)
 * killed with SIGKILL at random moments on two machines at once. Afterwards `git fsck` is clean
 * everywhere, every record still reads, and the next commands carry on.
 */
/** Processes really killed (not finished before their moment came). */
const KILLS = 55;
/** How long each kind of command took when it was left to finish: kill moments are drawn within it. */
const took = new Map<string, number[]>();
const { m, world, cleanup } = consortium(['north', 'south']);
const machines = [m.north, m.south];
test.after(cleanup);

const main = new Map<Machine, string>();
const extra = new Map<Machine, string[]>(machines.map((x) => [x, []]));
const log: string[] = [];

/**
 * The random choices (which command, when to kill, the process or its group) come from one
 * seeded generator, printed here, so that a failure can be replayed: FAULT_SEED=<n> npm test faults.
 * The kill moments still depend on how fast the machine runs the commands.
 */
const SEED = Number(process.env.FAULT_SEED) || Math.floor(Date.now() % 2 ** 31);
console.log(`fault test seed: FAULT_SEED=${SEED}`);
let state = SEED;
/** mulberry32: small, fast, and good enough to spread choices evenly. */
function random(): number {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

test.before(() => {
  main.set(m.north, json(m.north, ['start', '-r', 'elena-vasquez', '--no-branch']).id);
  main.set(m.south, json(m.south, ['start', '-r', 'yuki-tanaka', '--no-branch']).id);
});

/** One random command for a machine, mostly sync and lease acquire. */
function pick(machine: Machine, i: number): string[] {
  const session = ['--session', main.get(machine)!];
  const r = random();
  const file = ['protocol/spec.md', 'protocol/**', 'src/shared.py', 'src/*.py'][i % 4]!;
  if (r < 0.4) return ['sync'];
  if (r < 0.75) return ['lease', 'acquire', file, ...session];
  if (r < 0.82) return ['lease', 'release', '--all', ...session];
  if (r < 0.89) return ['heartbeat', ...session];
  const spare = extra.get(machine)!;
  if (r < 0.95 || spare.length === 0)
    return ['start', '-r', machine === m.north ? 'elena-vasquez' : 'yuki-tanaka', '--shared', '--no-branch'];
  return ['end', '--session', spare.shift()!];
}

/** Runs the CLI in its own process group and kills it (or its whole group) after `ms`. */
function runAndKill(machine: Machine, args: string[], ms: number): Promise<string> {
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(process.execPath, [CLI, ...args], {
      cwd: machine.dir,
      env: { ...process.env, ...machine.env() },
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
    });
    const group = random() < 0.5;
    const timer = setTimeout(() => {
      try {
        if (group) process.kill(-child.pid!, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // already finished
      }
    }, ms);
    const begun = Date.now();
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (!signal) took.set(args[0]!, [...(took.get(args[0]!) ?? []), Date.now() - begun]);
      const started = /Started session (\S+)/.exec(out)?.[1];
      if (started) extra.get(machine)!.push(started);
      resolve(`${machine.name} ${args.join(' ')} after ${ms}ms: ${signal ?? `exit ${code}`}`);
    });
  });
}

function locksUnder(dir: string): string[] {
  const found: string[] = [];
  const visit = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) visit(full);
      else if (e.name.endsWith('.lock')) found.push(full);
    }
  };
  visit(dir);
  return found;
}

test(`${KILLS} commands killed at random moments leave every repository consistent and readable`, async () => {
  let killed = 0;
  // A kill moment anywhere within the command's usual run, which depends on the machine's load.
  const moment = (args: string[]) => {
    const seen = took.get(args[0]!) ?? [];
    const usual = seen.length ? seen.reduce((a, b) => a + b, 0) / seen.length : 400;
    return Math.floor(random() * usual);
  };
  for (let i = 0; killed < KILLS && i < KILLS * 2; i++) {
    const outcomes = await Promise.all(
      machines.map((x, k) => {
        const args = pick(x, i + k);
        return runAndKill(x, args, moment(args));
      }),
    );
    log.push(...outcomes);
    killed += outcomes.filter((o) => o.endsWith('SIGKILL')).length;
  }
  // Detached git helpers of killed processes finish on their own: give them a moment.
  await new Promise((r) => setTimeout(r, 500));
  if (process.env.FAULTS_LOG) console.log(log.join('\n'));
  assert.ok(
    killed >= KILLS,
    `at least ${KILLS} processes were really killed (${killed}):\n${log.join('\n')}`,
  );

  for (const x of machines) {
    const fsck = x.git(['fsck', '--no-progress', '--strict']);
    assert.is(fsck.code, 0, `${x.name}: ${fsck.stderr}`);
    assert.not.match(fsck.stdout + fsck.stderr, /error|missing|broken|corrupt/i);
    const status = x.gc(['status', '--all', '--json']);
    assert.is(status.code, 0, status.stderr);
    assert.not.match(status.stderr, /Skipped/, `${x.name}: every session record reads`);
    const ids = JSON.parse(status.stdout).sessions.map((s: any) => s.id);
    assert.ok(ids.includes(main.get(x)), `${x.name}: its session survived`);
    assert.is(x.gc(['lease', 'list', '--json']).code, 0);
  }
  const remote = must(m.north.git([`--git-dir=${world.remote}`, 'fsck', '--no-progress', '--strict']));
  assert.not.match(remote.stdout + remote.stderr, /error|missing|broken|corrupt/i);
});

test('after the crashes, recover clears what they left and the next commands carry on', async () => {
  const locks = machines.flatMap((x) => locksUnder(path.join(x.dir, '.git', 'refs')));
  if (locks.length) await new Promise((r) => setTimeout(r, 3500)); // until they count as stale
  for (const x of machines) {
    const report = json(x, ['recover', '--older-than', '1d']);
    assert.not.ok(
      report.actions.some((a: any) => a.action === 'end-session'),
      'no live session is taken for abandoned',
    );
  }
  for (const x of machines) assert.equal(locksUnder(path.join(x.dir, '.git', 'refs')), []);
  for (const x of machines) must(x.gc(['sync']));
  for (const x of machines) must(x.gc(['sync']));
  const north = json(m.north, ['lease', 'list']).leases;
  const south = json(m.south, ['lease', 'list']).leases;
  assert.equal(north, south, 'after sync both machines agree on the leases');
  // No two sessions hold overlapping leases, whatever was killed when.
  for (const a of north)
    for (const b of north)
      if (a.session !== b.session)
        assert.not.ok(
          patternsOverlap(a.pattern, b.pattern),
          `${a.pattern} (${a.session}) and ${b.pattern} (${b.session})`,
        );
  must(m.north.gc(['lease', 'release', '--all', '--session', main.get(m.north)!]));
  must(m.south.gc(['lease', 'release', '--all', '--session', main.get(m.south)!]));
  const granted = json(m.north, ['lease', 'acquire', 'protocol/**', '--session', main.get(m.north)!]);
  assert.is(granted.leases[0].pattern, 'protocol/**');
  const refused = m.south.gc(['lease', 'acquire', 'protocol/spec.md', '--session', main.get(m.south)!]);
  assert.is(refused.code, 1, 'exclusivity still holds');
  for (const x of machines) must(x.gc(['end', '--session', main.get(x)!]));
});

test.run();
