import { existsSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { consortium, json, type Machine, must } from '../helpers/sandbox.js';

/** sync between machines that share nothing but the bare remote. */
const { m, world, cleanup } = consortium(['elena', 'yuki', 'aria']);
const { elena, yuki, aria } = m;
test.after(cleanup);

const remoteGit = (args: string[]) => must(elena.git([`--git-dir=${world.remote}`, ...args])).stdout;
const remoteSha = (ref: string) => remoteGit(['rev-parse', '--verify', '--quiet', ref]).trim();
const stateOn = (machine: Machine, id: string) =>
  json(machine, ['status', '--all']).sessions.find((s: any) => s.id === id)?.state;

test('a session started on one machine is visible on another after sync, and sync says so', () => {
  const s = json(elena, ['start', '-r', 'elena-vasquez', '--intent', 'power analysis']);
  assert.not.ok(
    json(yuki, ['status']).sessions.some((x: any) => x.id === s.id),
    'status is local',
  );
  const report = json(yuki, ['sync']);
  assert.equal(
    report.sessions.started.map((x: any) => [x.id, x.researcher, x.intent]),
    [[s.id, 'elena-vasquez', 'power analysis']],
  );
  assert.ok(json(yuki, ['status']).sessions.some((x: any) => x.id === s.id));
  const text = must(yuki.gc(['sync'])).stdout;
  assert.match(text, /Nothing changed for you since the last sync/, 'a second sync has no news');
  must(elena.gc(['end']));
  const after = json(yuki, ['sync']);
  assert.equal(
    after.sessions.ended.map((x: any) => x.id),
    [s.id],
  );
});

test('a fetch killed at its time bound leaves a lock: the next sync clears it and carries on', () => {
  const s = json(elena, ['start', '-r', 'elena-vasquez', '--no-branch', '--shared']);
  must(yuki.gc(['sync']));
  must(elena.gc(['end', '--session', s.id]));
  const gitDir = path.resolve(yuki.dir, must(yuki.git(['rev-parse', '--git-common-dir'])).stdout.trim());
  const lock = path.join(gitDir, 'refs', 'consortium-remote', 'sessions', `${s.id}.lock`);
  writeFileSync(lock, '0000000000000000000000000000000000000000\n');
  const old = new Date(Date.now() - 60_000);
  utimesSync(lock, old, old);
  const r = yuki.gc(['sync']);
  assert.is(r.code, 0, r.stderr);
  assert.not.ok(existsSync(lock), 'the stale lock is gone');
  assert.is(stateOn(yuki, s.id), 'ended');
  // A fresh lock may be a live git's: it is left alone.
  const other = json(elena, ['start', '-r', 'elena-vasquez', '--no-branch', '--shared']);
  const busy = path.join(gitDir, 'refs', 'consortium-remote', 'leases.lock');
  writeFileSync(busy, '0000000000000000000000000000000000000000\n');
  must(yuki.gc(['sync']));
  assert.ok(existsSync(busy), 'a lock of now is not removed');
  rmSync(busy);
  must(elena.gc(['end', '--session', other.id]));
});

test('three machines writing notes on one commit at once, then syncing, all end with all three notes', async () => {
  const commit = must(elena.git(['rev-parse', 'origin/main'])).stdout.trim();
  for (const x of [elena, yuki, aria]) {
    must(x.gc(['sync']));
    const note = JSON.stringify({ type: 'remark', at: new Date().toISOString(), by: x.name });
    must(x.git(['notes', '--ref=consortium', 'append', '-m', note, commit]));
  }
  const first = await Promise.all([elena, yuki, aria].map((x) => x.gcAsync(['sync', '--json'])));
  for (const r of first) assert.is(r.code, 0, r.stderr);
  const onRemote = remoteGit(['notes', '--ref=consortium', 'show', commit]);
  for (const name of ['elena', 'yuki', 'aria']) assert.match(onRemote, `"by":"${name}"`, 'no note lost');
  for (const x of [elena, yuki, aria]) must(x.gc(['sync']));
  for (const x of [elena, yuki, aria]) {
    const notes = must(x.git(['notes', '--ref=consortium', 'show', commit]))
      .stdout.trim()
      .split('\n');
    assert.is(notes.length, 3, `${x.name}: ${notes.join(' | ')}`);
    assert.match(must(x.git(['log', '-1', '--notes=consortium', commit])).stdout, /"by":"aria"/);
  }
});

test('an older copy of a session never overwrites a newer one; diverged copies merge, an end winning', () => {
  // Another machine ends the session: its copy is newer than the owner's.
  const s = json(yuki, ['start', '-r', 'yuki-tanaka']);
  must(aria.gc(['sync']));
  must(aria.gc(['end', '--session', s.id]));
  const ended = remoteSha(`refs/consortium/sessions/${s.id}`);
  must(yuki.gc(['sync']));
  assert.is(remoteSha(`refs/consortium/sessions/${s.id}`), ended, 'the older copy was not pushed over it');
  assert.is(must(yuki.git(['rev-parse', `refs/consortium/sessions/${s.id}`])).stdout.trim(), ended);
  assert.is(stateOn(yuki, s.id), 'ended');

  // The owner heartbeats while another machine ends it: both copies moved.
  must(yuki.git(['checkout', '-q', 'main']));
  const t = json(yuki, ['start', '-r', 'yuki-tanaka']);
  must(aria.gc(['sync']));
  must(aria.gc(['end', '--session', t.id]));
  const later = new Date(Date.now() + 10 * 60_000).toISOString();
  must(yuki.gc(['heartbeat'], { env: { CONSORTIUM_CLOCK: later } }));
  const endedRemote = remoteSha(`refs/consortium/sessions/${t.id}`);
  const beat = must(yuki.git(['rev-parse', `refs/consortium/sessions/${t.id}`])).stdout.trim();
  assert.is.not(beat, endedRemote);
  const report = json(yuki, ['sync']);
  assert.ok(report.pushed.includes(`refs/consortium/sessions/${t.id}`));
  const merged = remoteSha(`refs/consortium/sessions/${t.id}`);
  const parents = remoteGit(['log', '-1', '--format=%P', merged]).trim().split(' ').sort();
  assert.equal(parents, [beat, endedRemote].sort(), 'the merge keeps both histories');
  must(aria.gc(['sync']));
  assert.is(stateOn(aria, t.id), 'ended');
  assert.is(stateOn(yuki, t.id), 'ended');
  must(yuki.git(['checkout', '-q', 'main']));
});

test('a record that does not contain the remote copy this clone fetched is never pushed over it: sync merges the two', () => {
  // Another machine ends the session while its owner heartbeats; then the owner's clone fetches
  // the remote's copy (as a push's gate does) before sharing its own. Leased against what was
  // just fetched, the push would take: and erase the end from the remote.
  const t = json(yuki, ['start', '-r', 'yuki-tanaka', '--no-branch', '--shared']);
  const ref = `refs/consortium/sessions/${t.id}`;
  must(aria.gc(['sync']));
  must(aria.gc(['end', '--session', t.id]));
  const ended = remoteSha(ref);
  const later = new Date(Date.now() + 10 * 60_000).toISOString();
  must(yuki.gc(['heartbeat'], { env: { CONSORTIUM_CLOCK: later } }));
  const beat = must(yuki.git(['rev-parse', ref])).stdout.trim();
  must(yuki.git(['fetch', '-q', 'origin', '+refs/consortium/*:refs/consortium-remote/*']));
  must(yuki.gc(['share', ref]));
  assert.is(remoteSha(ref), ended, "the end another machine shared is still the remote's copy");
  const report = json(yuki, ['sync']);
  assert.ok(report.pushed.includes(ref), 'sync shares the heartbeat, merged');
  const merged = remoteSha(ref);
  const parents = remoteGit(['log', '-1', '--format=%P', merged]).trim().split(' ').sort();
  assert.equal(parents, [beat, ended].sort(), 'the merge keeps both histories');
  assert.is(stateOn(yuki, t.id), 'ended');
});

test("the remote moves between sync's fetch and its push: the retry brings what was refused, merges it, and both machines' changes land", () => {
  // Another machine's end of the session and its note reach the remote while yuki's sync is
  // under way: its push is refused for both, and the retry fetches those two and merges.
  const t = json(yuki, ['start', '-r', 'yuki-tanaka', '--no-branch', '--shared']);
  const ref = `refs/consortium/sessions/${t.id}`;
  const commit = must(elena.git(['rev-parse', 'origin/main'])).stdout.trim();
  const started = remoteSha(ref);
  const notesBefore = remoteSha('refs/notes/consortium');
  must(aria.gc(['sync']));
  must(aria.gc(['end', '--session', t.id]));
  const note = (by: string) => JSON.stringify({ type: 'remark', at: new Date().toISOString(), by });
  must(aria.git(['notes', '--ref=consortium', 'append', '-m', note('aria, meanwhile'), commit]));
  must(aria.gc(['sync']));
  // What aria shared is kept on the remote under other names, and taken back for now.
  const ended = remoteSha(ref);
  const ariasNotes = remoteSha('refs/notes/consortium');
  remoteGit(['update-ref', 'refs/test/ended', ended]);
  remoteGit(['update-ref', 'refs/test/notes', ariasNotes]);
  remoteGit(['update-ref', ref, started]);
  if (notesBefore) remoteGit(['update-ref', 'refs/notes/consortium', notesBefore]);
  else remoteGit(['update-ref', '-d', 'refs/notes/consortium']);
  // yuki's own changes, made while the remote could not be reached.
  const url = must(yuki.git(['remote', 'get-url', 'origin'])).stdout.trim();
  must(yuki.git(['remote', 'set-url', 'origin', path.join(world.root, 'nowhere.git')]));
  const later = new Date(Date.now() + 10 * 60_000).toISOString();
  must(yuki.gc(['heartbeat'], { env: { CONSORTIUM_CLOCK: later } }));
  const beat = must(yuki.git(['rev-parse', ref])).stdout.trim();
  must(yuki.git(['notes', '--ref=consortium', 'append', '-m', note('yuki'), commit]));
  must(yuki.git(['remote', 'set-url', 'origin', url]));
  // The first push yuki's sync makes finds aria's changes back on the remote.
  const once = path.join(world.root, 'moved-once');
  const receivePack = path.join(world.root, 'moving-receive-pack');
  writeFileSync(
    receivePack,
    `#!/bin/sh
if [ ! -e '${once}' ]; then
  : > '${once}'
  git --git-dir='${world.remote}' update-ref ${ref} ${ended}
  git --git-dir='${world.remote}' update-ref refs/notes/consortium ${ariasNotes}
fi
exec git-receive-pack "$@"
`,
    { mode: 0o755 },
  );
  must(yuki.git(['config', 'remote.origin.receivepack', receivePack]));
  try {
    const report = json(yuki, ['sync']);
    assert.ok(existsSync(once), 'the remote moved under the sync');
    assert.ok(report.pushed.includes(ref), JSON.stringify(report));
    assert.ok(report.pushed.includes('refs/notes/consortium'), JSON.stringify(report));
  } finally {
    must(yuki.git(['config', '--unset', 'remote.origin.receivepack']));
    remoteGit(['update-ref', '-d', 'refs/test/ended']);
    remoteGit(['update-ref', '-d', 'refs/test/notes']);
  }
  const merged = remoteSha(ref);
  const parents = remoteGit(['log', '-1', '--format=%P', merged]).trim().split(' ').sort();
  assert.equal(
    parents,
    [beat, ended].sort(),
    "the record on the remote holds aria's end and yuki's heartbeat",
  );
  assert.is(stateOn(yuki, t.id), 'ended');
  const notes = remoteGit(['notes', '--ref=consortium', 'show', commit]);
  assert.match(notes, '"by":"aria, meanwhile"');
  assert.match(notes, '"by":"yuki"');
});

function mergeIntoMain(machine: Machine, branch: string) {
  must(machine.git(['checkout', '-q', 'main']));
  must(machine.git(['pull', '-q', '--ff-only', 'origin', 'main']));
  must(machine.git(['merge', '-q', '--no-ff', '-m', `Merge ${branch}`, branch]));
  must(machine.git(['push', '-q', 'origin', 'main']));
}

test('a session whose branch was merged into the default branch and pushed shows as merged elsewhere after sync', () => {
  // The owner syncs after merging.
  const s = json(elena, ['start', '-r', 'elena-vasquez']);
  elena.commit('analysis', { 'consortium/elena-vasquez/power.md': 'n = 40\n' });
  mergeIntoMain(elena, s.branch);
  const mine = json(elena, ['sync']);
  assert.equal(
    mine.sessions.merged.map((x: any) => x.id),
    [s.id],
  );
  const theirs = json(yuki, ['sync']);
  assert.is(stateOn(yuki, s.id), 'merged');
  assert.not.ok(
    json(yuki, ['status']).sessions.some((x: any) => x.id === s.id),
    'a merged session is not active',
  );
  assert.ok(
    theirs.sessions.merged.some((x: any) => x.id === s.id),
    'sync says it merged',
  );
  assert.not.ok(theirs.sessions.ended.some((x: any) => x.id === s.id));

  // The owner shared its head, then merged and pushed without syncing: others find out.
  const t = json(aria, ['start', '-r', 'aria-blackwood']);
  aria.commit('red team', { 'consortium/aria-blackwood/findings.md': 'none yet\n' });
  must(aria.gc(['heartbeat']));
  must(aria.gc(['sync']));
  mergeIntoMain(aria, t.branch);
  const report = json(yuki, ['sync']);
  assert.equal(
    report.sessions.merged.map((x: any) => x.id),
    [t.id],
  );
  must(aria.gc(['sync']));
  assert.is(stateOn(aria, t.id), 'merged');
  // A session with no commits of its own is never taken for merged.
  const idle = json(yuki, ['start', '-r', 'yuki-tanaka']);
  must(yuki.gc(['sync']));
  assert.is(stateOn(yuki, idle.id), 'active');
  must(yuki.gc(['end']));
  must(yuki.git(['checkout', '-q', 'main']));
});

test('among many live sessions sync marks merged only the one whose work the default branch holds', () => {
  // Three candidates at once (sync judges them together): merged elsewhere, with a head that
  // never reached this machine, and one of this machine still at work.
  const a = json(aria, ['start', '-r', 'aria-blackwood']);
  aria.commit('ablation', { 'consortium/aria-blackwood/ablation.md': 'run 1\n' });
  must(aria.gc(['heartbeat']));
  must(aria.gc(['sync']));
  const b = json(elena, ['start', '-r', 'elena-vasquez']);
  elena.commit('draft', { 'consortium/elena-vasquez/draft.md': 'not pushed\n' });
  must(elena.gc(['heartbeat']));
  must(elena.gc(['sync']));
  const u = json(yuki, ['start', '-r', 'yuki-tanaka']);
  yuki.commit('notes', { 'consortium/yuki-tanaka/notes.md': 'mine\n' });
  mergeIntoMain(aria, a.branch);
  const report = json(yuki, ['sync']);
  assert.equal(
    report.sessions.merged.map((x: any) => x.id),
    [a.id],
  );
  assert.is(stateOn(yuki, a.id), 'merged');
  assert.is(stateOn(yuki, b.id), 'active', 'a head this machine has not got is not merged');
  assert.is(stateOn(yuki, u.id), 'active');
  must(yuki.gc(['end']));
  must(elena.gc(['end']));
  for (const machine of [yuki, elena]) must(machine.git(['checkout', '-q', 'main']));
});

test('sync reports protocol files changed upstream and gate changes', () => {
  must(yuki.gc(['sync']));
  must(elena.git(['checkout', '-q', 'main']));
  must(elena.git(['pull', '-q', '--ff-only', 'origin', 'main']));
  elena.commit('protocol: clarify descriptors', { 'protocol/spec.md': '# Protocol\n\nchanged\n' });
  must(elena.git(['push', '-q', 'origin', 'main']));
  must(elena.gc(['gates', 'unlock', 'G1', '-r', 'elena-vasquez', '--note', 'power analysis done']));
  must(elena.gc(['sync']));
  const report = json(yuki, ['sync']);
  assert.equal(report.protocol.changed, ['protocol/spec.md']);
  assert.equal(
    report.gates.map((g: any) => [g.gate, g.action, g.by]),
    [['G1', 'unlock', 'elena-vasquez']],
  );
  const text = must(aria.gc(['sync'])).stdout;
  assert.match(text, /Protocol files changed upstream on main: protocol\/spec\.md/);
  assert.match(text, /gate G1 unlocked by elena-vasquez/);
});

test('sync --rebase rebases my session branch, and leaves everything untouched when that conflicts', () => {
  must(yuki.git(['checkout', '-q', 'main']));
  must(yuki.git(['reset', '-q', '--hard', 'origin/main~2']));
  // A branch that starts behind the default branch, on purpose: --from says where.
  const s = json(yuki, ['start', '-r', 'yuki-tanaka', '--from', 'HEAD']);
  yuki.commit('latency', { 'src/shared.py': '# shared code\n\nline 3 by yuki\n' });
  const report = json(yuki, ['sync', '--rebase']);
  assert.is(report.rebase.status, 'rebased', report.rebase.message);
  assert.is(must(yuki.git(['branch', '--show-current'])).stdout.trim(), s.branch);
  assert.is(must(yuki.git(['merge-base', '--is-ancestor', 'origin/main', 'HEAD'])).code, 0);

  must(elena.git(['pull', '-q', '--ff-only', 'origin', 'main']));
  elena.commit('shared: elena', { 'src/shared.py': '# shared code\n\nline 3 by elena\n' });
  must(elena.git(['push', '-q', 'origin', 'main']));
  const head = must(yuki.git(['rev-parse', 'HEAD'])).stdout.trim();
  const r = yuki.gc(['sync', '--rebase', '--json']);
  assert.is(r.code, 1, r.stderr);
  const conflict = JSON.parse(r.stdout).rebase;
  assert.is(conflict.status, 'conflict');
  assert.equal(conflict.conflicts, ['src/shared.py']);
  assert.is(must(yuki.git(['rev-parse', 'HEAD'])).stdout.trim(), head, 'HEAD is where it was');
  assert.is(must(yuki.git(['status', '--porcelain'])).stdout, '', 'the worktree is clean');
  assert.is(must(yuki.git(['branch', '--show-current'])).stdout.trim(), s.branch);
  assert.not.ok(existsSync(path.join(yuki.dir, '.git', 'rebase-merge')), 'no rebase left in progress');
  must(yuki.gc(['end']));
  must(yuki.git(['checkout', '-q', 'main']));
});

test('ten start --shared processes at once in one clone: ten sessions, none lost, all shared by sync', async () => {
  const results = await Promise.all(
    Array.from({ length: 10 }, () => aria.gcAsync(['start', '-r', 'aria-blackwood', '--shared', '--json'])),
  );
  for (const r of results) assert.is(r.code, 0, r.stderr);
  const ids = results.map((r) => JSON.parse(r.stdout).id);
  assert.is(new Set(ids).size, 10);
  must(aria.gc(['sync']));
  must(elena.gc(['sync']));
  const seen = new Set(json(elena, ['status']).sessions.map((s: any) => s.id));
  for (const id of ids) assert.ok(seen.has(id), `session ${id} reached another machine`);
  for (const id of ids) must(aria.gc(['end', '--session', id]));
});

test('two coordination fetches at once in one clone both succeed, however many refs they both update', async () => {
  // Forty records change on the remote between rounds, so both fetches write the same forty
  // mirror refs at the same moment: git refuses one of them its stale locks.
  for (let round = 0; round < 3; round++) {
    const commit = must(elena.git(['commit-tree', '-m', `round ${round}`, 'HEAD^{tree}'])).stdout.trim();
    for (let i = 0; i < 40; i++) must(elena.git(['update-ref', `refs/consortium/race/r${i}`, commit]));
    must(elena.git(['push', '-q', '-f', 'origin', 'refs/consortium/race/*:refs/consortium/race/*']));
    const [a, b] = await Promise.all([
      yuki.gcAsync(['status', '--fetch']),
      yuki.gcAsync(['status', '--fetch']),
    ]);
    for (const r of [a, b]) {
      assert.is(r.code, 0, r.stderr);
      assert.not.match(r.stderr, 'could not fetch', `round ${round}`);
    }
    assert.is(must(yuki.git(['rev-parse', 'refs/consortium-remote/race/r39'])).stdout.trim(), commit);
  }
  must(
    elena.git([
      'push',
      '-q',
      'origin',
      '--delete',
      ...Array.from({ length: 40 }, (_, i) => `refs/consortium/race/r${i}`),
    ]),
  );
  for (let i = 0; i < 40; i++) must(elena.git(['update-ref', '-d', `refs/consortium/race/r${i}`]));
});

async function withRemote(machine: Machine, url: string, body: () => Promise<void>) {
  const old = must(machine.git(['remote', 'get-url', 'origin'])).stdout.trim();
  must(machine.git(['remote', 'set-url', 'origin', url]));
  try {
    await body();
  } finally {
    must(machine.git(['remote', 'set-url', 'origin', old]));
  }
}

async function timed(machine: Machine, args: string[]) {
  const started = Date.now();
  const result = await machine.gcAsync(args);
  return { ...result, seconds: (Date.now() - started) / 1000 };
}

test('a remote path that does not exist: sync and lease acquire exit 3, start and status work in seconds', async () => {
  let offlineId = '';
  await withRemote(aria, path.join(world.root, 'gone.git'), async () => {
    const sync = await timed(aria, ['sync', '--json']);
    assert.is(sync.code, 3);
    assert.is(sync.stdout, '', 'with --json an error leaves stdout empty');
    assert.match(sync.stderr, /Cannot reach the remote origin/);
    assert.not.match(sync.stderr, /\n\s+at /);
    const start = await timed(aria, ['start', '-r', 'aria-blackwood', '--json']);
    assert.is(start.code, 0, start.stderr);
    assert.ok(start.seconds < 5, `start took ${start.seconds}s`);
    offlineId = JSON.parse(start.stdout).id;
    const status = await timed(aria, ['status']);
    assert.is(status.code, 0);
    assert.ok(status.seconds < 5, `status took ${status.seconds}s`);
    const lease = await timed(aria, ['lease', 'acquire', 'src/shared.py']);
    assert.is(lease.code, 3);
    const end = await timed(aria, ['end']);
    assert.is(end.code, 0, end.stderr);
  });
  // Once the remote is back, the next sync shares what was done offline.
  must(aria.gc(['sync']));
  must(elena.gc(['sync']));
  assert.is(stateOn(elena, offlineId), 'ended');
  must(aria.git(['checkout', '-q', 'main']));
});

test('a remote that accepts and never answers: start within 15 s, status within 5 s, sync exits 3', async () => {
  const held: Socket[] = [];
  const server = createServer((socket) => {
    held.push(socket); // accept, then say nothing, ever
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const elenaSession = json(elena, [
    'start',
    '-r',
    'elena-vasquez',
    '--worktree',
    '--branch',
    'elena-side',
  ]).id;
  try {
    await withRemote(elena, `git://127.0.0.1:${port}/consortium.git`, async () => {
      const [start, sync, lease] = await Promise.all([
        timed(elena, ['start', '-r', 'elena-vasquez', '--json']),
        timed(elena, ['sync']),
        timed(elena, ['lease', 'acquire', 'src/shared.py', '--session', elenaSession]),
      ]);
      assert.is(lease.code, 3, lease.stderr);
      assert.match(lease.stderr, /A lease needs the remote/);
      assert.is(start.code, 0, start.stderr);
      assert.ok(start.seconds < 15, `start took ${start.seconds}s`);
      assert.match(start.stderr, /Not shared with the remote yet/);
      assert.is(sync.code, 3, sync.stderr);
      assert.match(sync.stderr, /did not answer within/);
      const status = await timed(elena, ['status']);
      assert.is(status.code, 0);
      assert.ok(status.seconds < 5, `status took ${status.seconds}s`);
      assert.ok(held.length > 0, 'the remote was really contacted');
    });
  } finally {
    for (const s of held) s.destroy();
    server.close();
  }
  must(elena.gc(['end']));
  must(elena.gc(['end', '--session', elenaSession]));
});

test('a record moved here while its push was under way: the mirror says what the remote got, and the next share sends the newer one', () => {
  // A share pushes a session's record; before git's push returns, another process of this
  // clone (an end, a heartbeat) writes a newer one. The mirror must hold what was pushed, not
  // what the ref holds afterwards: else the next share leases against a value the remote never
  // had, and the newer record stays here until someone runs sync.
  const s = json(aria, ['start', '-r', 'aria-blackwood', '--intent', 'mirror race']);
  const ref = `refs/consortium/sessions/${s.id}`;
  const local = () => must(aria.git(['rev-parse', ref])).stdout.trim();
  const url = must(aria.git(['remote', 'get-url', 'origin'])).stdout.trim();
  must(aria.git(['remote', 'set-url', 'origin', path.join(world.root, 'nowhere.git')]));
  // Two records written here, each after a commit (a heartbeat writes when something changed).
  aria.commit('First step', { 'consortium/aria-blackwood/race-1.md': '1\n' });
  must(aria.gc(['heartbeat']));
  const pushed = local();
  aria.commit('Second step', { 'consortium/aria-blackwood/race-2.md': '2\n' });
  must(aria.gc(['heartbeat']));
  const newer = local();
  must(aria.git(['remote', 'set-url', 'origin', url]));
  must(aria.git(['update-ref', ref, pushed, newer]));
  assert.is.not(pushed, newer);
  // The remote's post-receive stands for the other process: it moves the ref here once the
  // remote has taken the push, before the push returns.
  const hook = path.join(world.remote, 'hooks', 'post-receive');
  writeFileSync(
    hook,
    `#!/bin/sh\nunset GIT_DIR\ngit -C '${aria.dir}' update-ref ${ref} ${newer} ${pushed}\n`,
    {
      mode: 0o755,
    },
  );
  try {
    must(aria.gc(['share', ref]));
  } finally {
    rmSync(hook);
  }
  assert.is(remoteSha(ref), pushed);
  assert.is(local(), newer);
  must(aria.gc(['share', ref]));
  assert.is(remoteSha(ref), newer, 'the newer record reached the remote without a sync');
});

test("a remote hook that refuses in words like 'timed out' is a refusal, not a remote that did not answer", () => {
  // The remote's own lines may quote anyone's words: only ssh's or curl's own say it gave up.
  const hook = path.join(world.remote, 'hooks', 'pre-receive');
  writeFileSync(hook, '#!/bin/sh\necho "the lab check timed out" >&2\nexit 1\n', { mode: 0o755 });
  let r: ReturnType<Machine['gc']>;
  try {
    r = elena.gc(['start', '-r', 'elena-vasquez', '--no-branch', '--shared']);
  } finally {
    rmSync(hook);
  }
  assert.match(r.stderr, /refused it: \[remote rejected\] \(pre-receive hook declined\)/);
  assert.not.match(r.stderr, /did not answer/);
  must(elena.gc(['end']));
});

test('sync with bad options is a usage error', () => {
  const r = elena.gc(['sync', '--remote', 'nowhere']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /no remote named "nowhere"/);
  assert.is(elena.gc(['sync', '--frob']).code, 2);
});

test.run();
