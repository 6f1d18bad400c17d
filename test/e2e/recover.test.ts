import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { consortium, json, type Machine, must } from '../helpers/sandbox.js';

/** recover: what crashed or abandoned work leaves behind, put right and reported. */
const { m, world, cleanup } = consortium(['elena', 'yuki', 'aria']);
const { elena, yuki, aria } = m;
test.after(cleanup);

const minutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();
const refsOf = (machine: Machine) =>
  must(machine.git(['for-each-ref', '--format=%(refname) %(objectname)'])).stdout;
const remoteRefs = () => must(elena.git(['ls-remote', world.remote])).stdout;
const stateOn = (machine: Machine, id: string, env = {}) =>
  json(machine, ['status', '--all'], { env }).sessions.find((s: any) => s.id === id)?.state;

test('recover --dry-run lists a stale session and changes no ref; recover ends it and frees its lease', () => {
  const stale = json(yuki, ['start', '-r', 'yuki-tanaka']);
  json(yuki, ['lease', 'acquire', 'src/shared.py']);
  json(elena, ['start', '-r', 'elena-vasquez']);
  const later = { CONSORTIUM_CLOCK: minutes(40) };
  must(elena.gc(['heartbeat'], { env: later }));
  must(elena.gc(['sync'], { env: later }));
  assert.is(stateOn(elena, stale.id, later), 'stale');
  const blocked = elena.gc(['lease', 'acquire', 'src/shared.py'], { env: later });
  assert.is(blocked.code, 1, 'a stale session lease keeps blocking until it expires');

  const before = [refsOf(elena), remoteRefs()];
  const dry = json(elena, ['recover', '--dry-run'], { env: later });
  assert.is(dry.dryRun, true);
  const planned = dry.actions.find((a: any) => a.action === 'end-session' && a.target === stale.id);
  assert.ok(planned, JSON.stringify(dry.actions));
  assert.match(planned.reason, /no heartbeat for 40m/);
  assert.is(planned.done, false);
  assert.ok(dry.actions.some((a: any) => a.action === 'release-leases' && a.target === stale.id));
  assert.equal([refsOf(elena), remoteRefs()], before, 'a dry run changes no ref, here or on the remote');
  assert.match(must(elena.gc(['recover', '--dry-run'], { env: later })).stdout, /Would end session/);

  const done = json(elena, ['recover'], { env: later });
  const ended = done.actions.find((a: any) => a.action === 'end-session' && a.target === stale.id);
  assert.is(ended.done, true);
  assert.not.ok(
    done.actions.some((a: any) => a.action === 'end-session' && a.target !== stale.id),
    'live sessions are left alone',
  );
  assert.is(stateOn(elena, stale.id, later), 'ended');
  const granted = json(elena, ['lease', 'acquire', 'src/shared.py'], { env: later });
  assert.is(granted.leases[0].pattern, 'src/shared.py');
  // The owner learns at its next sync, with who ended it and why.
  const news = json(yuki, ['sync']);
  assert.ok(
    news.sessions.ended.some((x: any) => x.id === stale.id),
    'sync tells the owner its session was ended elsewhere',
  );
  assert.is(stateOn(yuki, stale.id), 'ended');
  const record = JSON.parse(
    must(yuki.git(['log', '-1', '--format=%b', `refs/consortium/sessions/${stale.id}`])).stdout,
  );
  assert.match(record.extra.recovered.reason, /no heartbeat/);
  assert.is(record.extra.recovered.by, 'elena-vasquez');
  must(elena.gc(['end'], { env: later }));
});

test('recover ends orphaned sessions of this machine: worktree gone, branch gone', () => {
  const inWorktree = json(aria, ['start', '-r', 'aria-blackwood', '--worktree']);
  const lost = json(aria, ['start', '-r', 'aria-blackwood', '--branch', 'aria-lost-branch']);
  must(aria.git(['checkout', '-q', 'main']));
  must(aria.git(['branch', '-q', '-D', lost.branch]));
  rmSync(inWorktree.worktree, { recursive: true, force: true });
  must(aria.gc(['sync']));
  // Another machine cannot tell: orphans are judged only where they live.
  const elsewhere = json(elena, ['recover', '--dry-run']);
  assert.not.ok(elsewhere.actions.some((a: any) => a.action === 'end-session'));
  // Nor can another clone on the same machine judge a branch: its branches are not ours.
  const sameHost = json(elena, ['recover', '--dry-run'], { env: { CONSORTIUM_HOST: 'aria' } });
  assert.not.ok(sameHost.actions.some((a: any) => a.action === 'end-session' && a.target === lost.id));
  const report = json(aria, ['recover']);
  const reasons = Object.fromEntries(
    report.actions.filter((a: any) => a.action === 'end-session').map((a: any) => [a.target, a.reason]),
  );
  assert.match(reasons[inWorktree.id], /worktree .* is gone/);
  assert.match(reasons[lost.id], /branch .* is gone/);
  assert.is(stateOn(aria, inWorktree.id), 'ended');
  assert.is(stateOn(aria, lost.id), 'ended');
  must(aria.git(['worktree', 'prune']));
});

test('recover removes stale lock files of its refs and old .claude-session-* files, and nothing fresh', () => {
  const s = json(yuki, ['start', '-r', 'yuki-tanaka']);
  const refDir = path.join(yuki.dir, '.git', 'refs', 'consortium', 'sessions');
  const stale = path.join(refDir, `${s.id}.lock`);
  const fresh = path.join(yuki.dir, '.git', 'refs', 'consortium', 'fresh.lock');
  const oldTop = path.join(yuki.dir, '.claude-session-lock');
  const oldWorkspace = path.join(yuki.dir, 'consortium', 'yuki-tanaka', '.claude-session-20250101.json');
  const newTop = path.join(yuki.dir, '.claude-session-current');
  for (const file of [stale, oldTop, oldWorkspace, newTop]) writeFileSync(file, 'x\n');
  const hourAgo = new Date(Date.now() - 3_600_000);
  for (const file of [stale, oldTop, oldWorkspace]) utimesSync(file, hourAgo, hourAgo);
  const later = { CONSORTIUM_CLOCK: minutes(10) };
  // A killed writer's lock stops every later write of that ref...
  const stuck = yuki.gc(['heartbeat'], { env: later });
  assert.is.not(stuck.code, 0);
  assert.match(stuck.stderr, /git consortium recover removes it/);

  const dry = json(yuki, ['recover', '--dry-run']);
  const targets = dry.actions.map((a: any) => a.target);
  assert.ok(targets.some((t: string) => t.endsWith(`${s.id}.lock`)));
  assert.ok(existsSync(stale), 'a dry run removes nothing');

  // A temporary notes ref of a process that is gone.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  const tmpRef = `refs/notes/consortium-tmp-${dead}-abc123`;
  must(yuki.git(['update-ref', tmpRef, 'HEAD']));

  writeFileSync(fresh, 'x\n');
  const report = json(yuki, ['recover']);
  const removed = report.actions.filter((a: any) => a.done).map((a: any) => `${a.action} ${a.target}`);
  assert.ok(
    removed.some((r: string) => r === `remove-lock refs/consortium/sessions/${s.id}.lock`),
    removed.join('\n'),
  );
  assert.ok(removed.some((r: string) => r === `remove-file ${oldTop}`));
  assert.ok(removed.some((r: string) => r === `remove-file ${oldWorkspace}`));
  assert.ok(removed.some((r: string) => r === `remove-temp-ref ${tmpRef}`));
  assert.not.ok(existsSync(stale));
  assert.not.ok(existsSync(oldTop));
  assert.ok(existsSync(fresh), 'a lock that may still be in use stays');
  assert.ok(existsSync(newTop), 'a recent .claude-session file stays');
  assert.is(yuki.git(['rev-parse', '--verify', '--quiet', tmpRef]).code, 1);
  rmSync(fresh);
  // ... and the next command carries on.
  must(yuki.gc(['heartbeat'], { env: later }));
  must(yuki.gc(['end']));
  assert.is(must(yuki.git(['fsck', '--no-progress'])).code, 0);
});

test('recover --prune D deletes ended and merged sessions older than D, here and on the remote', () => {
  must(elena.gc(['sync']));
  const live = json(elena, ['start', '-r', 'elena-vasquez', '--no-branch']);
  const all = json(elena, ['status', '--all']).sessions;
  const finished = all.filter((s: any) => s.state === 'ended' || s.state === 'merged').map((s: any) => s.id);
  assert.ok(finished.length >= 4, `finished: ${finished.length}`);
  const inThreeDays = { CONSORTIUM_CLOCK: minutes(3 * 24 * 60) };
  must(elena.gc(['heartbeat'], { env: inThreeDays }));

  const before = remoteRefs();
  const dry = json(elena, ['recover', '--prune', '1d', '--dry-run'], { env: inThreeDays });
  assert.equal(
    dry.actions
      .filter((a: any) => a.action === 'prune-session')
      .map((a: any) => a.target)
      .sort(),
    finished.sort(),
  );
  assert.is(remoteRefs(), before);

  const young = json(elena, ['recover', '--prune', '5d'], { env: inThreeDays });
  assert.not.ok(
    young.actions.some((a: any) => a.action === 'prune-session'),
    'nothing is older than 5d',
  );

  const report = json(elena, ['recover', '--prune', '1d'], { env: inThreeDays });
  const pruned = report.actions.filter((a: any) => a.action === 'prune-session' && a.done);
  assert.is(pruned.length, finished.length, JSON.stringify(report.actions));
  const after = remoteRefs();
  for (const id of finished) {
    assert.not.match(after, id, `${id} is gone from the remote`);
    assert.not.match(refsOf(elena), id, `${id} is gone here`);
  }
  assert.match(after, live.id, 'a live session is kept');
  // Other machines drop them at their next sync, and never push them back.
  for (const x of [yuki, aria]) {
    must(x.gc(['sync']));
    const left = json(x, ['status', '--all']).sessions.map((s: any) => s.id);
    for (const id of finished) assert.not.ok(left.includes(id), `${x.name} dropped ${id}`);
  }
  for (const id of finished) assert.not.match(remoteRefs(), id, `${id} was not pushed back`);
  must(elena.gc(['end'], { env: inThreeDays }));
});

test("a session pruned elsewhere after its machine's own last push stays pruned: the gate's fetch and sync drop it", () => {
  must(yuki.gc(['init'])); // the hooks: the push below goes through the gate and its fetch
  const s = json(yuki, ['start', '-r', 'yuki-tanaka', '--no-branch']);
  must(yuki.gc(['sync']));
  must(yuki.git(['checkout', '-q', '-b', 'yuki-prune-probe', 'origin/main']));
  must(yuki.git(['commit', '-q', '--allow-empty', '-m', 'probe']));
  // `end` pushes the record: the last thing this machine knows of the remote is its own push.
  must(yuki.gc(['end', '--session', s.id]));
  must(elena.gc(['sync']));
  const inThreeDays = { CONSORTIUM_CLOCK: minutes(3 * 24 * 60) };
  must(elena.gc(['recover', '--prune', '1d'], { env: inThreeDays }));
  assert.not.match(remoteRefs(), s.id, 'pruned on the remote');
  const pushed = yuki.git(['push', '-q', '-u', 'origin', 'HEAD']);
  assert.is(pushed.code, 0, pushed.stderr);
  must(yuki.gc(['sync']));
  assert.not.match(remoteRefs(), s.id, 'not pushed back');
  assert.not.match(refsOf(yuki), `sessions/${s.id}`, 'dropped here too');
  must(yuki.git(['checkout', '-q', 'main']));
});

test('recover with a bad duration is a usage error', () => {
  for (const args of [
    ['recover', '--older-than', 'x'],
    ['recover', '--prune', '3 days'],
    ['recover', 'extra'],
  ]) {
    const r = elena.gc(args);
    assert.is(r.code, 2, args.join(' '));
  }
});

test.run();
