import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { consortium, json, type Machine, must } from '../helpers/sandbox.js';

/**
 * The archive (SPEC section 5, issue 14 "Scale"): finished sessions past sessions.archiveAfter
 * leave their refs, here and on the remote, for one archive ref that keeps their history;
 * audit still lists them; a live session is never archived; two clones archiving at once lose
 * nothing.
 */
const { m, world, cleanup } = consortium(['elena', 'yuki']);
const { elena, yuki } = m;
test.after(cleanup);

const days = (n: number) => ({ CONSORTIUM_CLOCK: new Date(Date.now() + n * 86_400_000).toISOString() });
const remoteRefs = () => must(elena.git(['ls-remote', world.remote])).stdout;
const localRefs = (x: Machine) => must(x.git(['for-each-ref', '--format=%(refname)'])).stdout;
const auditIds = (x: Machine, env = {}) =>
  new Set(json(x, ['audit'], { env }).events.map((e: any) => e.session));
const archiveOnRemote = () => {
  // The list is in the archive commit's tree (store/archive.ts).
  const list = must(
    elena.git(['--git-dir', world.remote, 'cat-file', 'blob', 'refs/consortium/archive:sessions.json']),
  );
  return JSON.parse(list.stdout).map((s: any) => s.id) as string[];
};

/** A session started with its own branch, given a handoff, and ended. */
function finished(x: Machine, researcher: string): { id: string; branch: string } {
  const s = json(x, ['start', '-r', researcher, '--intent', `work of ${researcher}`]);
  must(x.gc(['handoff', '--summary-file', '-'], { input: `Handoff of ${s.id}\n` }));
  must(x.gc(['end']));
  must(x.git(['checkout', '-q', 'main']));
  return { id: s.id, branch: s.branch };
}

test('recover archives finished sessions of anyone past archiveAfter; the remote advertises none of their refs; audit lists them', () => {
  const a = finished(elena, 'elena-vasquez');
  const b = finished(yuki, 'yuki-tanaka');
  must(elena.gc(['sync']));
  assert.match(remoteRefs(), `refs/consortium-reserved/${a.branch}`);
  const live = json(elena, ['start', '-r', 'elena-vasquez', '--no-branch']);
  const later = days(8);
  must(elena.gc(['heartbeat'], { env: later }));

  const young = json(elena, ['recover', '--dry-run'], { env: days(6) });
  assert.not.ok(
    young.actions.some((x: any) => x.action === 'archive-session'),
    'nothing is 7d old yet',
  );
  const dry = json(elena, ['recover', '--dry-run'], { env: later });
  const planned = dry.actions.filter((x: any) => x.action === 'archive-session').map((x: any) => x.target);
  assert.equal(planned.sort(), [a.id, b.id].sort());
  assert.match(remoteRefs(), a.id, 'a dry run changes nothing');

  const report = must(elena.gc(['recover'], { env: later }));
  assert.match(report.stdout, new RegExp(`Archived session ${b.id} \\(ended more than 7d ago\\)`));
  const refs = remoteRefs();
  for (const s of [a, b]) {
    assert.not.match(refs, s.id, `no ref of ${s.id} on the remote`);
    assert.not.match(refs, `refs/consortium-reserved/${s.branch}`, 'nor its branch reservation');
    assert.not.match(localRefs(elena), `sessions/${s.id}`, 'nor here');
  }
  assert.match(refs, `refs/consortium/sessions/${live.id}`, 'a live session stays');
  assert.match(refs, 'refs/consortium/archive');
  assert.equal(archiveOnRemote().sort(), [a.id, b.id].sort());

  // audit lists them as before, handoffs included, here and in the other clone once synced.
  const trail = json(elena, ['audit'], { env: later }).events;
  for (const s of [a, b]) {
    const kinds = trail.filter((e: any) => e.session === s.id).map((e: any) => `${e.kind} ${e.action}`);
    assert.ok(kinds.includes('session start'), kinds.join(', '));
    assert.ok(kinds.includes('handoff handoff'), kinds.join(', '));
    assert.ok(kinds.includes('session end'), kinds.join(', '));
  }
  must(yuki.gc(['sync'], { env: later }));
  assert.not.match(localRefs(yuki), `sessions/${b.id}`, 'the other clone lets them go');
  assert.ok(auditIds(yuki, later).has(a.id) && auditIds(yuki, later).has(b.id));
  assert.not.match(remoteRefs(), b.id, 'and never pushes them back');
  assert.is(
    json(elena, ['status', '--all'], { env: later }).sessions.some((s: any) => s.id === a.id),
    false,
  );
  assert.is(must(elena.git(['--git-dir', world.remote, 'fsck', '--no-progress'])).code, 0);
  must(elena.gc(['end', '--session', live.id], { env: later }));
});

test('sync archives what is due on the remote, and a live session is never archived', () => {
  const c = finished(yuki, 'yuki-tanaka');
  const live = json(yuki, ['start', '-r', 'yuki-tanaka', '--no-branch']);
  must(yuki.gc(['sync']));
  const later = days(20);
  // Silent for twenty days: stale, not finished, so it stays.
  const report = json(elena, ['sync'], { env: later });
  assert.ok(report.archived.includes(c.id), JSON.stringify(report.archived));
  assert.not.ok(report.archived.includes(live.id));
  assert.not.match(remoteRefs(), c.id);
  assert.match(remoteRefs(), live.id);
  assert.ok(archiveOnRemote().includes(c.id));
  must(yuki.gc(['end', '--session', live.id]));
});

test('two clones archiving at once lose nothing', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    ids.push(finished(elena, 'elena-vasquez').id);
    ids.push(finished(yuki, 'yuki-tanaka').id);
  }
  must(elena.gc(['sync']));
  must(yuki.gc(['sync']));
  const before = archiveOnRemote();
  const later = days(40);
  const [x, y] = await Promise.all([
    elena.gcAsync(['recover', '--json'], { env: later }),
    yuki.gcAsync(['recover', '--json'], { env: later }),
  ]);
  assert.is(x.code, 0, x.stderr);
  assert.is(y.code, 0, y.stderr);
  const archived = new Set(archiveOnRemote());
  for (const id of [...before, ...ids]) assert.ok(archived.has(id), `${id} is in the archive`);
  const refs = remoteRefs();
  for (const id of ids) assert.not.match(refs, id);
  for (const machine of [elena, yuki]) {
    must(machine.gc(['sync'], { env: later }));
    const seen = auditIds(machine, later);
    for (const id of ids) assert.ok(seen.has(id), `${machine.name} audits ${id}`);
  }
});

test('recover --prune D drops archived sessions older than D with their history', () => {
  const later = days(60);
  const all = archiveOnRemote();
  assert.ok(all.length >= 9);
  const report = json(elena, ['recover', '--prune', '30d'], { env: later });
  const pruned = report.actions
    .filter((x: any) => x.action === 'prune-session' && x.done)
    .map((x: any) => x.target);
  assert.equal(pruned.sort(), [...all].sort());
  assert.equal(archiveOnRemote(), []);
  must(yuki.gc(['sync'], { env: later }));
  const seen = auditIds(yuki, later);
  for (const id of all) assert.not.ok(seen.has(id), `${id} is gone from the audit`);
});

test.run();
