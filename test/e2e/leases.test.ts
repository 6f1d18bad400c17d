import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { consortium, json, type Machine, must } from '../helpers/sandbox.js';

/**
 * Leases as a consortium of six machines (two per researcher) sees them: the remote decides
 * who holds what, even when they race at the same instant.
 */
const { m, world, cleanup } = consortium(['elena1', 'elena2', 'yuki1', 'yuki2', 'aria1', 'aria2']);
const all = Object.values(m) as Machine[];
const researcher = (machine: Machine) =>
  ({ elena: 'elena-vasquez', yuki: 'yuki-tanaka', aria: 'aria-blackwood' })[machine.name.slice(0, -1)]!;
const session = new Map<Machine, string>();
let forcer: Machine;

test.before(() => {
  for (const machine of all) session.set(machine, json(machine, ['start', '-r', researcher(machine)]).id);
});
test.after(cleanup);

const remoteTable = () =>
  must(all[0]!.git(['ls-remote', world.remote, 'refs/consortium/leases'])).stdout.split('\t')[0] ?? '';
const syncAll = () => Promise.all(all.map((x) => x.gcAsync(['sync']))).then((rs) => rs.forEach(must));

test('six machines racing for one file: exactly one wins, the others are told who holds it', async () => {
  const results = await Promise.all(
    all.map((x) => x.gcAsync(['lease', 'acquire', 'TCP_SPECIFICATION.md', '--json'])),
  );
  const winners = results.flatMap((r, i) => (r.code === 0 ? [all[i]!] : []));
  assert.is(winners.length, 1, results.map((r) => `${r.code} ${r.stderr}`).join('\n'));
  const winner = winners[0]!;
  for (const r of results) {
    if (r.code === 0) continue;
    assert.is(r.code, 1, r.stderr);
    assert.is(r.stdout, '', 'a refusal prints nothing on stdout');
    assert.match(
      r.stderr,
      new RegExp(
        `TCP_SPECIFICATION.md is leased by ${researcher(winner)} \\(session ${session.get(winner)}\\) since \\S+Z until \\S+Z`,
      ),
    );
  }
  await syncAll();
  for (const x of all) {
    const { leases } = json(x, ['lease', 'list']);
    assert.equal(
      leases.map((l: any) => [l.pattern, l.session, l.researcher]),
      [['TCP_SPECIFICATION.md', session.get(winner), researcher(winner)]],
      `${x.name} agrees who holds it`,
    );
    for (const key of ['acquiredAt', 'expiresAt', 'forced', 'reason']) assert.ok(key in leases[0], key);
  }
});

test('a lease blocks another session push of that file, through the installed pre-push gate', () => {
  const holder = json(m.elena1, ['lease', 'list']).leases.find(
    (l: any) => l.pattern === 'TCP_SPECIFICATION.md',
  );
  const other = all.find((x) => session.get(x) !== holder.session)!;
  must(other.gc(['init']));
  other.commit('spec edit', { 'TCP_SPECIFICATION.md': '# TCP specification\n\nmine\n' });
  // Before any push, status already shows the committed work on a leased file as a conflict.
  const conflict = json(other, ['status']).conflicts.find((c: any) => c.kind === 'lease');
  assert.ok(conflict, 'status shows a lease conflict');
  assert.is(conflict.severity, 'high');
  assert.equal(conflict.paths, ['TCP_SPECIFICATION.md']);
  assert.ok(conflict.sessions.includes(holder.session));
  const push = other.git(['push', 'origin', 'HEAD']);
  assert.is.not(push.code, 0, 'the push was blocked');
  assert.match(
    push.stderr,
    `HIGH lease TCP_SPECIFICATION.md: held by ${holder.researcher} ${holder.session.slice(-6)}, leased until `,
  );
  const branch = must(other.git(['branch', '--show-current'])).stdout.trim();
  assert.is(
    other.git(['ls-remote', '--exit-code', 'origin', `refs/heads/${branch}`]).code,
    2,
    'nothing reached the remote',
  );
  must(other.git(['reset', '-q', '--hard', 'HEAD~1']));
});

test('three rounds of two machines racing overlapping patterns: exactly one granted each time', async () => {
  const rounds: [Machine, string, Machine, string][] = [
    [m.elena1, 'protocol/**', m.yuki1, 'protocol/spec.md'],
    [m.yuki2, 'src/*.py', m.aria1, 'src/shared.py'],
    [m.aria2, 'consortium/**/notes.md', m.elena2, 'consortium/yuki-tanaka/notes.md'],
  ];
  for (const [a, pa, b, pb] of rounds) {
    const [ra, rb] = await Promise.all([
      a.gcAsync(['lease', 'acquire', pa, '--json']),
      b.gcAsync(['lease', 'acquire', pb, '--json']),
    ]);
    const codes = [ra.code, rb.code].sort();
    assert.equal(codes, [0, 1], `${pa} vs ${pb}: ${ra.stderr} ${rb.stderr}`);
    const [winner, pattern] = ra.code === 0 ? [a, pa] : [b, pb];
    const loser = winner === a ? b : a;
    const refusal = (ra.code === 0 ? rb : ra).stderr;
    assert.ok(
      refusal.includes(`overlaps ${pattern}, which is leased by ${researcher(winner)}`),
      `the refusal names the overlapping lease and its holder: ${refusal}`,
    );
    // A person is told every way out; an agent, never the one that is a person's decision.
    assert.match(refusal, `ask ${researcher(winner)} to release it (git consortium lease release ${pattern}`);
    assert.match(refusal, 'break it with --force --reason TEXT');
    const asAgent = loser.gc(['lease', 'acquire', pattern], { env: { CLAUDECODE: '1' } });
    assert.is(asAgent.code, 1, asAgent.stderr);
    assert.match(asAgent.stderr, `ask ${researcher(winner)} to release it`);
    assert.not.match(asAgent.stderr, '--force');
    must(loser.gc(['sync']));
    const held = json(loser, ['lease', 'list']).leases.filter((l: any) => l.pattern === pattern);
    assert.equal(
      held.map((l: any) => l.session),
      [session.get(winner)],
    );
  }
});

test('six machines acquiring six different files at once: all granted, none lost on the one shared ref', async () => {
  const files = all.map((x) => `data/${x.name}.csv`);
  const results = await Promise.all(
    all.map((x, i) => x.gcAsync(['lease', 'acquire', files[i]!, '--allow-missing', '--json'])),
  );
  for (const r of results) assert.is(r.code, 0, r.stderr);
  must(m.aria2.gc(['sync']));
  const held = json(m.aria2, ['lease', 'list']).leases;
  for (const [i, x] of all.entries())
    assert.ok(
      held.some((l: any) => l.pattern === files[i] && l.session === session.get(x)),
      `${files[i]} is still held by ${x.name}`,
    );
  await Promise.all(all.map((x, i) => x.gcAsync(['lease', 'release', files[i]!]))).then((rs) =>
    rs.forEach(must),
  );
});

test('the leases show in status, on the holding session and in the lease list', () => {
  const status = json(m.elena1, ['status', '--fetch']);
  const holder = status.leases.find((l: any) => l.pattern === 'TCP_SPECIFICATION.md');
  assert.ok(holder);
  const s = status.sessions.find((x: any) => x.id === holder.session);
  assert.ok(s.leases.includes('TCP_SPECIFICATION.md'));
});

test('a lease with a short --ttl is refused to others at once and granted once it expires', async () => {
  const granted = json(m.elena2, ['lease', 'acquire', 'docs/short.md', '--allow-missing', '--ttl', '2s']);
  const until = Date.parse(granted.leases[0].expiresAt);
  assert.is(until - Date.parse(granted.leases[0].acquiredAt), 2000);
  // "At once": a second after it was taken (the clock is fixed there, whatever this machine's load).
  const oneSecondIn = new Date(Date.parse(granted.leases[0].acquiredAt) + 1000).toISOString();
  const refused = m.yuki2.gc(['lease', 'acquire', 'docs/short.md', '--allow-missing'], {
    env: { CONSORTIUM_CLOCK: oneSecondIn },
  });
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /docs\/short\.md is leased by elena-vasquez/);
  await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now() + 300)));
  const later = json(m.yuki2, ['lease', 'acquire', 'docs/short.md', '--allow-missing']);
  assert.is(later.leases[0].session, session.get(m.yuki2));
});

test('heartbeats renew a lease; once they stop it expires a ttl after the last one', () => {
  const granted = json(m.elena2, ['lease', 'acquire', 'docs/renewed.md', '--allow-missing', '--ttl', '1h']);
  const t0 = Date.parse(granted.leases[0].acquiredAt);
  const at = (minutes: number) => ({ CONSORTIUM_CLOCK: new Date(t0 + minutes * 60_000).toISOString() });
  must(m.elena2.gc(['heartbeat'], { env: at(50) }));
  must(m.elena2.gc(['sync'], { env: at(50) }));
  const renewed = m.yuki2.gc(['lease', 'acquire', 'docs/renewed.md', '--allow-missing'], { env: at(70) });
  assert.is(renewed.code, 1, 'past its first hour, renewed by the heartbeat at 50 minutes');
  const until = new Date(t0 + 110 * 60_000).toISOString();
  assert.ok(renewed.stderr.includes(`until ${until}`), renewed.stderr);
  const expired = json(m.yuki2, ['lease', 'acquire', 'docs/renewed.md', '--allow-missing'], { env: at(111) });
  assert.is(expired.leases[0].session, session.get(m.yuki2));
  must(m.yuki2.gc(['lease', 'release', 'docs/renewed.md'], { env: at(111) }));
});

test('--force breaks another session lease and records who, when and why', () => {
  const victim = json(m.aria1, ['lease', 'list']).leases.find(
    (l: any) => l.pattern === 'TCP_SPECIFICATION.md',
  );
  // Whoever won the race is the victim; another machine (never elena2, used later) breaks it.
  forcer = [m.aria1, m.aria2, m.yuki1, m.yuki2, m.elena1].find((x) => session.get(x) !== victim.session)!;
  const observer = all.find((x) => x !== forcer && session.get(x) !== victim.session)!;
  const noReason = forcer.gc(['lease', 'acquire', 'TCP_SPECIFICATION.md', '--force']);
  assert.is(noReason.code, 2);
  assert.match(noReason.stderr, /--reason/);
  const forced = json(forcer, [
    'lease',
    'acquire',
    'TCP_SPECIFICATION.md',
    '--force',
    '--reason',
    'holder unreachable, release blocks G3',
  ]);
  assert.equal(
    forced.broke.map((l: any) => l.session),
    [victim.session],
  );
  assert.is(forced.leases[0].forced, true);
  must(observer.gc(['sync']));
  const seen = json(observer, ['lease', 'list']).leases.find(
    (l: any) => l.pattern === 'TCP_SPECIFICATION.md',
  );
  assert.is(seen.session, session.get(forcer));
  assert.is(seen.forced, true);
  assert.is(seen.reason, 'holder unreachable, release blocks G3');
  // The lease table's history holds the change, with the lease it broke, for the audit.
  const log = must(observer.git(['log', '--format=%H %s', 'refs/consortium-remote/leases'])).stdout.split(
    '\n',
  );
  const line = log.find((l) => l.includes(` force TCP_SPECIFICATION.md (${researcher(forcer)}`));
  assert.ok(line, log.join('\n'));
  const body = must(observer.git(['log', '-1', '--format=%b', line!.split(' ')[0]!])).stdout;
  const change = JSON.parse(body).change;
  assert.is(change.action, 'force');
  assert.is(change.researcher, researcher(forcer));
  assert.is(change.reason, 'holder unreachable, release blocks G3');
  assert.match(change.at, /Z$/);
  assert.equal(
    change.broke.map((l: any) => l.session),
    [victim.session],
  );
  // ... and the audit trail shows it, with the commit a reviewer can verify.
  const audit = json(observer, ['audit']);
  const text = JSON.stringify(audit);
  assert.match(text, 'holder unreachable, release blocks G3');
  assert.match(text, line!.split(' ')[0]!);
});

test('end releases the session leases everywhere after sync', async () => {
  const ended = session.get(forcer)!;
  assert.ok(json(forcer, ['lease', 'list']).leases.some((l: any) => l.session === ended));
  must(forcer.gc(['end']));
  await syncAll();
  for (const x of all)
    assert.not.ok(
      json(x, ['lease', 'list']).leases.some((l: any) => l.session === ended),
      `${x.name} no longer sees the lease`,
    );
  const table = JSON.parse(
    must(m.elena1.git(['log', '-1', '--format=%b', 'refs/consortium-remote/leases'])).stdout,
  );
  assert.not.ok(
    table.leases.some((l: any) => l.session === ended),
    'the table on the remote was cleaned too',
  );
  // ... and the file is free for another session.
  json(m.elena2, ['lease', 'acquire', 'TCP_SPECIFICATION.md']);
});

test('release gives a lease back; releasing what is not held is refused', () => {
  const released = json(m.elena2, ['lease', 'release', 'TCP_SPECIFICATION.md']);
  assert.equal(released.released, ['TCP_SPECIFICATION.md']);
  const again = m.elena2.gc(['lease', 'release', 'TCP_SPECIFICATION.md']);
  assert.is(again.code, 1);
  assert.match(again.stderr, /holds no lease on TCP_SPECIFICATION\.md/);
  m.elena2.write('guide/intro.md', '# intro\n');
  json(m.elena2, ['lease', 'acquire', 'intro.md'], { cwd: 'guide' });
  json(m.elena2, ['lease', 'acquire', 'guide']);
  const mine = json(m.elena2, ['lease', 'list']).leases.filter(
    (l: any) => l.session === session.get(m.elena2),
  );
  assert.ok(
    mine.some((l: any) => l.pattern === 'guide/intro.md'),
    'a path is taken relative to the current folder',
  );
  assert.ok(
    mine.some((l: any) => l.pattern === 'guide/**'),
    'a folder is leased with everything below it',
  );
  assert.equal(json(m.elena2, ['lease', 'release', '--all']).released.length, mine.length);
});

test('bad input is refused with exit 2 and changes nothing', () => {
  const before = remoteTable();
  for (const args of [
    ['lease', 'acquire'],
    ['lease', 'acquire', '../outside.txt'],
    ['lease', 'acquire', 'a.txt', '--ttl', 'soon'],
    ['lease', 'acquire', 'a.txt', '--ttl', '0s'],
    ['lease', 'frobnicate'],
    ['lease', 'release'],
    ['lease', 'release', 'a.txt', '--all'],
    ['lease', 'acquire', 'a\u0007b'],
  ]) {
    const r = m.yuki1.gc(args);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  }
  assert.is(remoteTable(), before);
});

test('a hand-edited lease table on the remote is reported, never a crash, and the next lease replaces it', () => {
  const x = all.find((y) => y !== forcer)!;
  const tree = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
  const garbage = must(x.git(['commit-tree', tree, '-m', 'leases\n\n{not json'])).stdout.trim();
  must(x.git(['push', '-q', '--no-verify', '--force', 'origin', `${garbage}:refs/consortium/leases`]));
  must(x.gc(['sync']));
  const listed = x.gc(['lease', 'list', '--json']);
  assert.is(listed.code, 0);
  assert.match(listed.stderr, /lease table .* cannot be read/);
  assert.ok(Array.isArray(JSON.parse(listed.stdout).leases));
  const status = x.gc(['status', '--json']);
  assert.is(status.code, 0, 'status still works');
  const granted = json(x, ['lease', 'acquire', 'src/after-repair.py', '--allow-missing']);
  assert.is(granted.leases[0].pattern, 'src/after-repair.py');
  assert.is(remoteTable() === garbage, false, 'the unreadable table was replaced');
  must(x.gc(['lease', 'release', 'src/after-repair.py']));
});

test('a lease needs the remote: offline, acquire and release exit 3 and nothing changes', () => {
  const x = all.find((y) => y !== forcer)!;
  const url = must(x.git(['remote', 'get-url', 'origin'])).stdout.trim();
  must(x.git(['remote', 'set-url', 'origin', `${world.root}/no-such-remote.git`]));
  try {
    const acquire = x.gc(['lease', 'acquire', 'src/offline.py', '--allow-missing']);
    assert.is(acquire.code, 3);
    assert.match(acquire.stderr, /A lease needs the remote, and origin cannot be reached/);
    const release = x.gc(['lease', 'release', '--all']);
    assert.is(release.code, 3);
  } finally {
    must(x.git(['remote', 'set-url', 'origin', url]));
  }
  assert.not.ok(json(x, ['lease', 'list']).leases.some((l: any) => l.pattern === 'src/offline.py'));
});

test.run();
