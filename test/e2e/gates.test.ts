import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { consortium, json, type Machine, must } from '../helpers/sandbox.js';

/**
 * The gate-and-key framework as users meet it: the TCP consortium's own gates (a copy of its
 * configuration kept in test/fixtures), three machines sharing them through the remote, and
 * the small sample consortium.
 */
const TCP_CONFIG = readFileSync(
  path.join(import.meta.dirname, '..', 'fixtures', 'tcp-consortium', 'consortium.config.yaml'),
  'utf8',
);
const tcp = consortium(['elena', 'yuki', 'alex'], {
  'consortium.config.yaml': TCP_CONFIG,
  'TCP_SPECIFICATION.md': '# TCP\n',
  'consortium/elena-vasquez/IDENTITY_CONTEXT_REMINDER.md': '# Elena\n',
  'consortium/yuki-tanaka/IDENTITY_CONTEXT_REMINDER.md': '# Yuki\n\nYou are Yuki: latency and hardware.\n',
  'consortium/alex-rivera/IDENTITY_CONTEXT_REMINDER.md': '# Alex\n',
});
const { elena, yuki, alex } = tcp.m;
const small = consortium(['elena', 'yuki', 'aria']);

test.after(() => {
  tcp.cleanup();
  small.cleanup();
});

const sync = (machine: Machine) => must(machine.gc(['sync']));

const gate = (m: Machine, id: string) => json(m, ['gates']).gates.find((g: any) => g.id === id);
const gateRefs = (m: Machine) => m.git(['for-each-ref', 'refs/consortium/gates/']).stdout.trim();

test('TCP: gates --json lists every gate with owner, requirements, status and readiness', () => {
  const { gates } = json(yuki, ['gates']);
  assert.equal(
    gates.map((g: any) => g.id),
    ['G1', 'G2', 'G3', 'G4', 'G5', 'G6', 'G7', 'G8', 'G9', 'AUDIT'],
  );
  const g7 = gates.find((g: any) => g.id === 'G7');
  assert.is(g7.title, 'Performance precision');
  assert.is(g7.owner, 'yuki-tanaka');
  assert.equal(g7.requires, ['G5', 'G6']);
  assert.is(g7.status, 'locked');
  assert.is(g7.ready, false);
  assert.equal(g7.history, []);
  assert.is(gates.find((g: any) => g.id === 'G5').ready, true, 'a gate with no requirement is ready');
});

test('TCP: unlocking a gate whose requirements are locked is refused, naming them; nothing is written', () => {
  const r = yuki.gc(['gates', 'unlock', 'G7', '-r', 'yuki-tanaka']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /G7 requires G5, G6/);
  assert.match(r.stderr, /--force/);
  assert.is(r.stdout, '');
  assert.is(gateRefs(yuki), '', 'no gate record was written');
  assert.is(gate(yuki, 'G7').status, 'locked');
});

test('TCP: a non-owner is refused, naming the owner', () => {
  const r = yuki.gc(['gates', 'unlock', 'G5', '-r', 'yuki-tanaka', '--json']);
  assert.is(r.code, 1);
  assert.match(r.stderr, /G5 belongs to elena-vasquez/);
  assert.is(r.stdout, '', 'an error leaves stdout empty, --json or not');
  assert.is(gateRefs(yuki), '');
});

test('TCP: orient --json lists the gates I own, those I wait on, and those waiting on me', () => {
  const o = json(yuki, ['orient', '-r', 'yuki-tanaka']);
  assert.equal(
    o.gates.owned.map((g: any) => [g.id, g.status, g.ready]),
    [
      ['G2', 'locked', true],
      ['G7', 'locked', false],
    ],
  );
  assert.equal(
    o.gates.waitingOn.map((g: any) => g.id),
    ['G5', 'G6'],
  );
  assert.equal(
    o.gates.waitingOnMe.map((g: any) => [g.id, g.neededBy]),
    [
      ['G2', ['AUDIT']],
      ['G7', ['G8', 'G9']],
    ],
  );
  for (const key of ['researcher', 'name', 'role', 'workspace', 'gates', 'sessions', 'handoff', 'alerts'])
    assert.ok(key in o, `orient --json has ${key}`);
  assert.is(o.name, 'Dr. Yuki Tanaka');
  assert.match(o.context.excerpt, /latency and hardware/);
});

test("TCP: the owner's unlock is seen on another machine after sync, which can then unlock the next gate", () => {
  const unlocked = json(elena, [
    'gates',
    'unlock',
    'G5',
    '-r',
    'elena-vasquez',
    '--note',
    'p < 0.001 on 10k runs',
  ]);
  assert.is(unlocked.changed, true);
  assert.is(unlocked.gate.status, 'unlocked');
  assert.is(unlocked.shared, true, 'shared with the remote at once');
  must(alex.gc(['gates', 'unlock', 'G6', '-r', 'alex-rivera']));
  assert.is(gate(yuki, 'G5').status, 'locked', 'not seen before a sync');
  sync(yuki);
  const g5 = gate(yuki, 'G5');
  assert.is(g5.status, 'unlocked');
  assert.equal(
    g5.history.map((h: any) => [h.action, h.by, h.note, h.forced]),
    [['unlock', 'elena-vasquez', 'p < 0.001 on 10k runs', false]],
  );
  assert.match(g5.history[0].at, /^\d{4}-\d\d-\d\dT/);
  assert.is(gate(yuki, 'G7').ready, true);
  const text = must(yuki.gc(['gates', 'unlock', 'G7', '-r', 'yuki-tanaka'])).stdout;
  assert.match(text, /Unlocked G7 \(Performance precision\)/);
  assert.match(text, /Now ready to unlock: G8/);
  sync(elena);
  assert.is(gate(elena, 'G7').status, 'unlocked', 'and the next unlock travels back');
});

test('TCP: orient alerts me to gates unlocked by others since my last look, once', () => {
  const first = json(yuki, ['orient', '-r', 'yuki-tanaka']);
  const gateAlerts = first.alerts.filter((a: any) => a.kind === 'gate');
  assert.equal(gateAlerts.map((a: any) => [a.gate, a.action, a.by]).sort(), [
    ['G5', 'unlock', 'elena-vasquez'],
    ['G6', 'unlock', 'alex-rivera'],
  ]);
  assert.ok(!gateAlerts.some((a: any) => a.by === 'yuki-tanaka'), 'my own unlocks are no news to me');
  const second = json(yuki, ['orient', '-r', 'yuki-tanaka']);
  assert.equal(
    second.alerts.filter((a: any) => a.kind === 'gate'),
    [],
  );
  assert.equal(
    second.gates.owned.map((g: any) => [g.id, g.status]),
    [
      ['G2', 'locked'],
      ['G7', 'unlocked'],
    ],
  );
});

test('TCP: a forced unlock records who forced it and which rule it overrode', () => {
  const r = yuki.gc(['gates', 'unlock', 'G8', '-r', 'yuki-tanaka', '--force', '--note', 'sam is away']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Forced by yuki-tanaka/);
  assert.match(r.stdout, /owned by sam-mitchell/);
  sync(alex);
  const g8 = gate(alex, 'G8');
  assert.is(g8.status, 'unlocked');
  const last = g8.history.at(-1);
  assert.is(last.by, 'yuki-tanaka');
  assert.is(last.forced, true);
  assert.is(last.note, 'sam is away');
  assert.equal(last.overrode, ['not-owner:sam-mitchell']);
  const log = must(yuki.git(['log', '--format=%s', '--glob=refs/consortium/gates/*'])).stdout;
  assert.match(log, /gates: unlock G8 by yuki-tanaka \(forced\)/, 'the record commit says so too');
});

test('TCP: gates --mermaid shows the requires edges, unlocked and locked styled apart', () => {
  const out = must(yuki.gc(['gates', '--mermaid'])).stdout;
  assert.match(out, /^flowchart LR\n/);
  for (const edge of [
    'G5 --> gate_G7',
    'G6 --> gate_G7',
    'G7 --> gate_G8',
    'G8 --> gate_G9',
    'G3 --> gate_AUDIT',
  ])
    assert.ok(out.includes(`gate_${edge}`), `edge ${edge}`);
  assert.not.ok(out.includes('gate_G1 --> gate_G2'), 'no edge that the configuration does not declare');
  assert.match(out, /classDef unlocked /);
  assert.match(out, /classDef locked /);
  const unlockedLine = /class (\S+) unlocked/.exec(out)![1]!.split(',');
  const lockedLine = /class (\S+) locked/.exec(out)![1]!.split(',');
  assert.equal(unlockedLine.sort(), ['gate_G5', 'gate_G6', 'gate_G7', 'gate_G8']);
  assert.ok(lockedLine.includes('gate_G9') && lockedLine.includes('gate_AUDIT'));
  assert.match(out, /gate_G7\["G7: Performance precision<br\/>yuki-tanaka<br\/>unlocked"\]/);
});

test('a corrupt gate record is skipped with a warning and never hides the others', () => {
  const blob = must(alex.git(['hash-object', '-w', '--stdin'], { input: 'garbage' })).stdout.trim();
  must(alex.git(['update-ref', 'refs/consortium-remote/gates/bogus', blob]));
  const tree = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
  const bad = must(alex.git(['commit-tree', tree, '-m', 'gates\n\n{"kind":"gates"}'])).stdout.trim();
  must(alex.git(['update-ref', 'refs/consortium-remote/gates/bad', bad]));
  const r = alex.gc(['gates', '--json']);
  assert.is(r.code, 0);
  assert.is(
    JSON.parse(r.stdout).gates.find((g: any) => g.id === 'G5').status,
    'unlocked',
    'the good records still count',
  );
  assert.match(r.stderr, /bogus: it points at a blob/);
  assert.match(r.stderr, /gates\/bad: it is not a gate record/);
  must(alex.git(['update-ref', '-d', 'refs/consortium-remote/gates/bogus']));
  must(alex.git(['update-ref', '-d', 'refs/consortium-remote/gates/bad']));
});

test('TCP: reopen by a non-owner is refused; the owner reopens and dependents are named', () => {
  const refused = yuki.gc(['gates', 'reopen', 'G5', '-r', 'yuki-tanaka']);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /only elena-vasquez may reopen it/);
  sync(elena);
  const r = must(elena.gc(['gates', 'reopen', 'G5', '-r', 'elena-vasquez', '--note', 'found a flaw']));
  assert.match(r.stdout, /Reopened G5/);
  assert.match(r.stdout, /Still unlocked although they require G5: G7, G8/);
  const g5 = gate(elena, 'G5');
  assert.is(g5.status, 'locked');
  assert.equal(
    g5.history.map((h: any) => h.action),
    ['unlock', 'reopen'],
  );
  const again = must(elena.gc(['gates', 'reopen', 'G5', '-r', 'elena-vasquez']));
  assert.match(again.stdout, /already locked; nothing changed/);
});

test('bad input: unknown gate, unknown verb, missing id: exit 2 and nothing written', () => {
  const before = gateRefs(alex);
  const unknown = alex.gc(['gates', 'unlock', 'G42', '-r', 'alex-rivera']);
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, /There is no gate "G42" \(gates: G1, G2/);
  const hostile = alex.gc(['gates', 'unlock', '--', '--upload-pack=evil', '-r', 'alex-rivera']);
  assert.is(hostile.code, 2);
  assert.is(alex.gc(['gates', 'open', 'G1']).code, 2);
  assert.is(alex.gc(['gates', 'unlock']).code, 2);
  assert.is(alex.gc(['gates', '--json', '--mermaid']).code, 2);
  const nobody = alex.gc(['gates', 'unlock', 'G6']);
  assert.is(nobody.code, 2, 'changing a gate needs an identity');
  assert.match(nobody.stderr, /--researcher/);
  assert.is(gateRefs(alex), before);
  for (const r of [unknown, hostile, nobody]) assert.not.match(r.stderr, /\n\s+at /);
});

test('two machines disagreeing about one gate: every change kept, the later one wins everywhere', () => {
  // Elena works on two machines (her own clone and, as elena-vasquez, Alex's) without syncing.
  sync(alex);
  const t = (m: number) => ({
    env: { CONSORTIUM_CLOCK: `2030-01-01T10:${String(m).padStart(2, '0')}:00.000Z` },
  });
  must(elena.gc(['gates', 'unlock', 'G1', '-r', 'elena-vasquez'], t(0)));
  must(alex.gc(['gates', 'unlock', 'G1', '-r', 'elena-vasquez', '--note', 'from the laptop'], t(5)));
  must(alex.gc(['gates', 'reopen', 'G1', '-r', 'elena-vasquez'], t(10)));
  sync(elena);
  sync(alex);
  const onElena = gate(elena, 'G1');
  const onAlex = gate(alex, 'G1');
  assert.equal(onElena, onAlex, 'both machines compute the same state and history');
  assert.equal(
    onElena.history.map((h: any) => [h.action, h.at.slice(11, 16)]),
    [
      ['unlock', '10:00'],
      ['unlock', '10:05'],
      ['reopen', '10:10'],
    ],
  );
  assert.is(onElena.status, 'locked', 'the later change (the reopen) wins');
  must(elena.gc(['gates', 'unlock', 'G1', '-r', 'elena-vasquez'], t(20)));
  sync(alex);
  assert.is(gate(alex, 'G1').status, 'unlocked');
  // A machine whose clock lags still wins with a change made after seeing the others.
  must(alex.gc(['gates', 'reopen', 'G1', '-r', 'elena-vasquez'], t(1)));
  sync(elena);
  assert.is(gate(elena, 'G1').status, 'locked');
  assert.ok(gate(elena, 'G1').history.at(-1).at > '2030-01-01T10:20', 'stamped after what it had seen');
  const refs = alex.git(['for-each-ref', '--format=%(refname)', 'refs/consortium-remote/gates/']).stdout;
  assert.is(refs.trim().split('\n').length, 3, 'one ref per writing clone, not one hot ref');
});

test('audit lists every gate change with the commit that records it, and --since narrows the period', () => {
  sync(yuki);
  const { events } = json(yuki, ['audit']);
  const gates = events.filter((e: any) => e.kind === 'gate');
  const forced = gates.find((e: any) => e.action === 'unlock (forced)' && e.what.startsWith('G8'));
  assert.ok(forced, 'the forced unlock is in the trail');
  assert.is(forced.by, 'yuki-tanaka');
  assert.match(forced.what, /overriding not-owner:sam-mitchell: sam is away/);
  const shown = must(yuki.git(['show', '-s', '--format=%s', forced.commit])).stdout;
  assert.match(shown, /gates: unlock G8 by yuki-tanaka \(forced\)/, 'a reviewer can verify it with git');
  assert.ok(
    gates.some((e: any) => e.action === 'reopen' && e.what.startsWith('G5') && e.by === 'elena-vasquez'),
  );
  const md = must(yuki.gc(['audit', '--format', 'markdown'])).stdout;
  assert.match(md, /\| Time \| Kind \| Action \| By \| Session \| What \| Commit \|/);
  assert.ok(md.includes(forced.commit));
  const later = json(yuki, ['audit', '--since', '1m'], {
    env: { CONSORTIUM_CLOCK: '2031-06-01T00:00:00.000Z' },
  });
  assert.equal(later.events, []);
  assert.is(yuki.gc(['audit', '--since', 'yesterday']).code, 2);
  assert.is(yuki.gc(['audit', '--format', 'xml']).code, 2);
});

test('sample consortium: refusal, owner, sync and next gate, as in the demo', () => {
  const { elena: e, yuki: y } = small.m;
  const early = y.gc(['gates', 'unlock', 'G2', '-r', 'yuki-tanaka']);
  assert.is(early.code, 1);
  assert.match(early.stderr, /G2 requires G1/);
  const notMine = y.gc(['gates', 'unlock', 'G1', '-r', 'yuki-tanaka']);
  assert.is(notMine.code, 1);
  assert.match(notMine.stderr, /belongs to elena-vasquez/);
  must(e.gc(['gates', 'unlock', 'G1', '-r', 'elena-vasquez']));
  sync(y);
  must(y.gc(['gates', 'unlock', 'G2', '-r', 'yuki-tanaka']));
  const list = must(y.gc(['gates'])).stdout;
  assert.match(list, /G1\s+unlocked/);
  assert.match(list, /G2\s+unlocked/);
  assert.match(list, /G3\s+locked, ready/);
});

test('sample consortium: six processes changing gates at once in one clone lose nothing', async () => {
  const { aria } = small.m;
  const runs = await Promise.all([
    aria.gcAsync(['gates', 'unlock', 'G1', '-r', 'elena-vasquez']),
    aria.gcAsync(['gates', 'unlock', 'G2', '-r', 'aria-blackwood', '--force']),
    aria.gcAsync(['gates', 'unlock', 'G3', '-r', 'aria-blackwood', '--force']),
    aria.gcAsync(['gates', 'unlock', 'G1', '-r', 'yuki-tanaka', '--force']),
    aria.gcAsync(['gates', 'unlock', 'G2', '-r', 'yuki-tanaka', '--force']),
    aria.gcAsync(['gates', 'unlock', 'G3', '-r', 'elena-vasquez', '--force']),
  ]);
  for (const r of runs) assert.is(r.code, 0, r.stderr);
  const { gates } = json(aria, ['gates']);
  const events = gates.flatMap((g: any) => g.history);
  // A process that found its gate already unlocked wrote nothing; every other wrote one event.
  const wrote = runs.filter((r) => /Unlocked/.test(r.stdout)).length;
  assert.is(events.length, wrote);
  assert.ok(wrote >= 3);
  assert.ok(
    gates.every((g: any) => g.status === 'unlocked'),
    'every gate unlocked',
  );
  assert.is(must(aria.git(['fsck', '--no-progress'])).code, 0);
});

test.run();
