import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openRepo } from '../../src/git/repo.js';
import { createSession } from '../../src/store/sessions.js';
import { runIn } from '../helpers/in-process.js';
import { consortium, must } from '../helpers/sandbox.js';

/**
 * Commands run in this process (test/helpers/in-process.ts) against real clones of a bare
 * remote, with their output captured and "now" fixed: what a person reads, and the exit code,
 * without a Node start per step. The hooks underneath are real processes.
 */
const { m, cleanup } = consortium(['elena', 'yuki', 'aria']);
const { elena, yuki, aria } = m;
test.before(() => {
  for (const x of [elena, yuki]) must(x.gc(['init']));
});
test.after(cleanup);

const T0 = '2026-12-01T10:00:00.000Z';
const later = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
let elenaSession = '';

test('bad usage: exit 2, one plain line on stderr, nothing on stdout', async () => {
  for (const args of [['lease', 'frobnicate'], ['status', '--nope'], ['start', '--ttl'], ['nosuch']]) {
    const r = await runIn(elena, args);
    assert.is(r.code, 2, args.join(' '));
    assert.is(r.stdout, '', args.join(' '));
    assert.match(r.stderr, /^git-consortium: [^\n]+\n$/, args.join(' '));
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('start, then status and status --json, at the clock given', async () => {
  const start = await runIn(elena, ['start', '-r', 'elena-vasquez', '--intent', 'loss sweep', '--json'], {
    clock: T0,
  });
  assert.is(start.code, 0, start.stderr);
  const session = JSON.parse(start.stdout);
  elenaSession = session.id;
  assert.is(session.startedAt, T0);
  assert.match(session.branch, /^claude-elena-vasquez-20261201-100000/);

  const text = await runIn(elena, ['status'], { clock: later(5) });
  assert.is(text.code, 0, text.stderr);
  // One line for the session: marked as mine, its short id, 5 minutes since its heartbeat.
  const line = text.stdout.split('\n').find((l) => l.startsWith('*'))!;
  assert.match(
    line,
    new RegExp(`^\\* +${elenaSession.slice(-6)} +elena-vasquez +elena:.* +5m ago +0 files$`),
    text.stdout,
  );
  assert.not.match(text.stdout, elenaSession, 'the full id is for --long and JSON');
  const long = await runIn(elena, ['status', '--long'], { clock: later(5) });
  assert.match(long.stdout, `elena-vasquez  ${elenaSession}  active`);
  assert.match(long.stdout, 'intent: loss sweep');
  assert.match(long.stdout, 'heartbeat 5m ago');

  // Two hours without a heartbeat, as the clock tells it: the session is stale, listed only with --all.
  const stale = async (args: string[]) =>
    JSON.parse((await runIn(elena, [...args, '--json'], { clock: later(120) })).stdout).sessions.find(
      (s: any) => s.id === elenaSession,
    );
  assert.is(await stale(['status']), undefined);
  assert.is((await stale(['status', '--all']))?.state, 'stale');
});

test("a lease: granted until the clock's time plus --ttl, listed, and refused to another researcher with every way out", async () => {
  // The pre-push hook heartbeats the session (a lease lasts from the last heartbeat): at the same clock.
  must(elena.git(['push', '-q', '-u', 'origin', 'HEAD'], { env: { CONSORTIUM_CLOCK: later(6) } }));
  const got = await runIn(elena, ['lease', 'acquire', 'protocol/spec.md', '--ttl', '30m'], {
    clock: later(6),
  });
  assert.is(got.code, 0, got.stderr);
  assert.match(
    got.stdout,
    `Leased protocol/spec.md to session ${elenaSession.slice(-6)} (elena-vasquez), until 10:36, in 30m.`,
  );

  must(yuki.gc(['start', '-r', 'yuki-tanaka']));
  const refused = await runIn(yuki, ['lease', 'acquire', 'protocol/**'], { clock: later(7) });
  assert.is(refused.code, 1);
  assert.is(refused.stdout, '');
  assert.match(refused.stderr, 'protocol/** overlaps protocol/spec.md, which is leased by elena-vasquez');
  assert.match(refused.stderr, 'Nothing was acquired.');
  assert.match(refused.stderr, 'break it with --force --reason TEXT');

  const agent = await runIn(yuki, ['lease', 'acquire', 'protocol/**'], {
    clock: later(7),
    env: { CLAUDECODE: '1' },
  });
  assert.is(agent.code, 1);
  assert.match(
    agent.stderr,
    'ask elena-vasquez to release it (git consortium lease release protocol/spec.md',
  );
  assert.not.match(agent.stderr, '--force', 'an agent is not shown how to break it');
  const forced = await runIn(yuki, ['lease', 'acquire', 'protocol/**', '--force'], {
    env: { CLAUDECODE: '1' },
  });
  assert.is(forced.code, 1);
  assert.match(forced.stderr, "a person's decision");
  assert.not.match(forced.stderr, '--reason', 'nor how to word one');
  const gate = await runIn(yuki, ['gates', 'unlock', 'G2', '--force', '-r', 'yuki-tanaka'], {
    env: { CLAUDECODE: '1' },
  });
  assert.is(gate.code, 1, gate.stderr);
  assert.match(gate.stderr, "Overriding a gate's rules is a person's decision");
  assert.not.match(gate.stderr, '--force');

  const list = JSON.parse((await runIn(yuki, ['lease', 'list', '--json'], { clock: later(8) })).stdout);
  assert.equal(
    list.leases.map((l: any) => [l.pattern, l.session, l.expiresAt]),
    [['protocol/spec.md', elenaSession, later(36)]],
  );
  const released = await runIn(elena, ['lease', 'release', 'protocol/spec.md'], { clock: later(9) });
  assert.is(released.code, 0, released.stderr);
});

test('orient: exits 0 and says how to give an identity when it cannot tell', async () => {
  // A clone with no session, at its top, and no researcher configured: nobody to be.
  const nobody = await runIn(aria, ['orient']);
  assert.is(nobody.code, 0, nobody.stderr);
  assert.match(nobody.stdout, '--researcher');
  assert.not.match(nobody.stdout, 'You are');
  const json = JSON.parse((await runIn(aria, ['orient', '--json'])).stdout);
  assert.is(json.researcher, null);

  const found = await runIn(aria, ['orient'], { cwd: 'consortium/elena-vasquez' });
  assert.is(found.code, 0, found.stderr);
  assert.match(found.stdout, 'You are Dr. Elena Vasquez (elena-vasquez) (known from');
});

test('a slip gets "did you mean", a missing argument is named, --color is checked', async () => {
  const cases: [string[], string][] = [
    [['leas'], 'There is no command "leas". Did you mean lease?'],
    [['stauts'], 'Did you mean status?'],
    [['status', '--lnog'], 'Unknown option --lnog. Did you mean --long?'],
    [
      ['lease', 'acquire'],
      'git consortium lease acquire needs the PATH (or pattern) to lease. See git consortium help lease.',
    ],
    [['--color=sometimes', 'status'], '--color takes auto, always or never, not "sometimes".'],
  ];
  for (const [args, said] of cases) {
    const r = await runIn(elena, args);
    assert.is(r.code, 2, args.join(' '));
    assert.match(r.stderr, said, args.join(' '));
  }
  assert.not.match((await runIn(elena, ['frobnicate'])).stderr, 'Did you mean', 'nothing near it');
  const version = await runIn(elena, ['version', '--json']);
  assert.equal(Object.keys(JSON.parse(version.stdout)), ['version', 'node', 'git']);
  assert.match((await runIn(elena, ['version'])).stdout, /^git-consortium \d+\.\d+\.\d+\n$/);
});

test('help: every command prints its examples, the same with --help', async () => {
  const help = await runIn(elena, ['help', 'lease']);
  assert.is(help.code, 0);
  assert.match(help.stdout, 'Examples:\n  git consortium lease acquire');
  assert.is((await runIn(elena, ['lease', '--help'])).stdout, help.stdout);
  // The common options and exit codes are said once, in the general help, within 80 columns.
  assert.not.match(help.stdout, 'Exit codes:');
  const general = (await runIn(elena, ['help'])).stdout;
  assert.match(general, 'Exit codes:');
  assert.equal(
    general.split('\n').filter((l) => l.length > 80),
    [],
  );
});

test('handoff: written with the clock, then shown whole', async () => {
  const written = await runIn(elena, ['handoff', '--next', 'rerun the sweep with seed 7', '--json'], {
    clock: later(10),
  });
  assert.is(written.code, 0, written.stderr);
  assert.is(JSON.parse(written.stdout).at, later(10));
  const shown = await runIn(elena, ['handoff', 'show', '-r', 'elena-vasquez']);
  assert.is(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, 'rerun the sweep with seed 7');
});

test('status with 10 sessions and 7 conflicts fits in 30 lines of 100 columns, each conflict once', async () => {
  const repo = openRepo(aria.dir);
  const who = ['elena-vasquez', 'yuki-tanaka', 'aria-blackwood'];
  const at = later(200);
  for (let i = 0; i < 10; i++) {
    const researcher = who[i % 3]!;
    // Five worktrees shared by two sessions each; two protocol files changed by two researchers each.
    const protocol = i < 2 ? ['protocol/spec.md'] : i < 4 ? ['TCP_SPECIFICATION.md'] : [];
    createSession(
      repo,
      {
        id: `20261201-133${i}00000-a${i}b${i}c${i}`,
        researcher,
        branch: `claude-${researcher}-20261201-13300${i}`,
        worktree: `/home/lab/work/tcp-consortium-worktree-${Math.floor(i / 2)}`,
        host: `lab-machine-${Math.floor(i / 2)}`,
        user: researcher,
        email: `${researcher}@example.org`,
        agent: i % 2 ? { kind: 'claude-code', sessionId: `conv-${i}` } : { kind: 'human' },
        intent: 'a long intent that status no longer prints on its one line per session, only with --long',
        shared: false,
        startedAt: at,
        startCommit: null,
        heartbeatAt: at,
        endedAt: null,
        state: 'active',
        head: null,
        changedFiles: [...protocol, 'src/a.py', 'src/b.py', `consortium/${researcher}/notes.md`],
        touchedFiles: [],
      },
      { name: researcher, email: `${researcher}@example.org` },
    );
  }
  const r = await runIn(aria, ['status', '-r', 'aria-blackwood'], { clock: at });
  assert.is(r.code, 0, r.stderr);
  const json = JSON.parse((await runIn(aria, ['status', '--json'], { clock: at })).stdout);
  assert.ok(
    json.sessions.length >= 10 && json.conflicts.length >= 7,
    `${json.sessions.length} sessions, ${json.conflicts.length} conflicts`,
  );
  const lines = r.stdout.trimEnd().split('\n');
  assert.ok(lines.length <= 30, `${lines.length} lines:\n${r.stdout}`);
  const wide = lines.filter((l) => l.length > 100);
  assert.equal(wide, [], 'no line wider than 100 columns');
  assert.is(
    lines.filter((l) => /^ *(HIGH|MEDIUM|LOW) /.test(l)).length,
    json.conflicts.length,
    'one line per conflict',
  );
  assert.not.match(r.stdout, /\d{8}-\d{9}-/, 'no full session id');

  // --session takes what status shows: a unique suffix, or a prefix; an ambiguous one lists them.
  const one = await runIn(aria, ['heartbeat', '--session', 'a5b5c5'], { clock: at });
  assert.is(one.code, 0, one.stderr);
  const many = await runIn(aria, ['heartbeat', '--session', '20261201-133'], { clock: at });
  assert.is(many.code, 2);
  assert.match(
    many.stderr,
    '"20261201-133" from --session names 10 sessions: 20261201-133000000-a0b0c0 (elena-vasquez, active)',
  );
  assert.match(many.stderr, 'Give more of the id.');
});

test.run();
