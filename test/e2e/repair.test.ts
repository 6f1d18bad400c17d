import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { consortium, json, type Machine, must } from '../helpers/sandbox.js';

/**
 * Hand-edited and unreadable records (issue 14, defect 6): `recover` restores them from the
 * remote's copy or sets them aside, keeping their bytes for a person; nothing unreadable is
 * ever shared; a lease table whose seq cannot count is repaired and advances again.
 */
const { m, world, cleanup } = consortium(['elena', 'yuki']);
const { elena, yuki } = m;
test.after(cleanup);

const TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const remoteRefs = () => must(elena.git(['ls-remote', world.remote])).stdout;
const sha = (machine: Machine, ref: string) =>
  machine.git(['rev-parse', '--verify', '--quiet', ref]).stdout.trim() || undefined;
/** A record commit written by hand, as a person editing refs would. */
const handWritten = (machine: Machine, message: string) =>
  must(machine.git(['commit-tree', TREE, '-m', message])).stdout.trim();
/** Whether a command warned about a record it could not read. */
const warnsOfRecords = (stderr: string) => /Skipped the|cannot be read/.test(stderr);
const bodyOf = (machine: Machine, ref: string) =>
  JSON.parse(must(machine.git(['log', '-1', '--format=%b', ref])).stdout);

test('recover restores a corrupt local session record from the remote copy, keeps the bytes, and the warnings stop', () => {
  const s = json(elena, ['start', '-r', 'elena-vasquez', '--no-branch']);
  must(elena.gc(['sync']));
  const ref = `refs/consortium/sessions/${s.id}`;
  const good = sha(elena, ref)!;
  const bad = handWritten(elena, `session ${s.id}: edited\n\n{not json`);
  must(elena.git(['update-ref', ref, bad]));
  assert.match(elena.gc(['status']).stderr, /not valid JSON/);
  must(elena.gc(['sync']));
  assert.match(elena.gc(['status']).stderr, /not valid JSON/, 'sync alone leaves it');

  const r = must(elena.gc(['recover']));
  assert.match(
    r.stdout,
    new RegExp(
      `Restored from the remote's copy ${ref} \\(its record is not valid JSON\\); its bytes are kept in refs/consortium-quarantine/sessions/${s.id}-${bad.slice(0, 12)}\\.`,
    ),
  );
  assert.is(sha(elena, ref), good, 'the readable copy is back');
  assert.is(
    sha(elena, `refs/consortium-quarantine/sessions/${s.id}-${bad.slice(0, 12)}`),
    bad,
    'the bytes are kept',
  );
  const after = elena.gc(['status', '--json']);
  assert.not.ok(warnsOfRecords(after.stderr), `no command warns any more: ${after.stderr}`);
  assert.ok(JSON.parse(after.stdout).sessions.some((x: any) => x.id === s.id));
  assert.not.match(remoteRefs(), 'consortium-quarantine', 'the quarantine is never shared');
  must(elena.gc(['sync']));
  assert.not.match(remoteRefs(), 'consortium-quarantine');
  must(elena.gc(['end', '--session', s.id]));
});

test('recover sets aside what no copy can read: a ref at a blob, a record never shared', () => {
  const blob = must(elena.git(['hash-object', '-w', '--stdin'], { input: 'garbage' })).stdout.trim();
  const atBlob = 'refs/consortium/sessions/20200101-000000000-aaaaaa';
  must(elena.git(['update-ref', atBlob, blob]));
  const dry = json(elena, ['recover', '--dry-run']);
  const planned = dry.actions.find((a: any) => a.target === atBlob);
  assert.is(planned.action, 'quarantine-record');
  assert.is(planned.done, false);
  assert.is(sha(elena, atBlob), blob, 'a dry run moves nothing');

  const report = json(elena, ['recover']);
  const done = report.actions.find((a: any) => a.target === atBlob);
  assert.is(done.done, true);
  assert.match(done.reason, /not a commit/);
  assert.is(done.kept, `refs/consortium-quarantine/sessions/20200101-000000000-aaaaaa-${blob.slice(0, 12)}`);
  assert.is(sha(elena, atBlob), undefined);
  assert.is(sha(elena, done.kept), blob);
  assert.not.ok(warnsOfRecords(elena.gc(['status']).stderr));
  assert.is(must(elena.git(['fsck', '--no-progress'])).code, 0);
});

test('sync never shares a local record in a format newer than this version reads', () => {
  const s = json(yuki, ['start', '-r', 'yuki-tanaka', '--no-branch']);
  must(yuki.gc(['end', '--session', s.id]));
  // A record of a later release, never shared yet: written here by hand.
  const id = '20200202-000000000-cccccc';
  const ref = `refs/consortium/sessions/${id}`;
  const body = { ...bodyOf(yuki, `refs/consortium/sessions/${s.id}`), id, format: 99, seq: 1 };
  const newer = handWritten(yuki, `session ${id}: start\n\n${JSON.stringify(body)}`);
  must(yuki.git(['update-ref', ref, newer]));
  const r = yuki.gc(['sync', '--json']);
  assert.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.not.ok(report.pushed.includes(ref), 'not pushed');
  assert.equal(
    report.held.map((h: any) => h.ref),
    [ref],
  );
  assert.match(report.held[0].reason, /format 99, newer than this version/);
  assert.not.match(remoteRefs(), id, 'the remote never saw it');
  assert.match(yuki.gc(['sync']).stderr, /Not shared, since this version cannot read them/);
  // The background share (hooks, heartbeats) holds it back too.
  must(yuki.gc(['share', ref]));
  assert.not.match(remoteRefs(), id);
  // Never shared, so there is no copy to restore: recover sets it aside.
  const report2 = json(yuki, ['recover']);
  const set = report2.actions.find((a: any) => a.target === ref);
  assert.is(set.action, 'quarantine-record');
  assert.is(set.done, true);
  assert.not.ok(warnsOfRecords(yuki.gc(['status']).stderr));
});

test('a lease table whose seq is 1e308 is repaired by recover, keeps its leases, and advances again', () => {
  const s = json(yuki, ['start', '-r', 'yuki-tanaka', '--no-branch']);
  json(yuki, ['lease', 'acquire', 'src/kept.py', '--allow-missing']);
  const table = bodyOf(yuki, 'refs/consortium/leases');
  const edited = handWritten(
    yuki,
    `leases\n\n${JSON.stringify({ ...table, seq: 1e308 }).replace('1e+308', '1e308')}`,
  );
  must(yuki.git(['push', '-q', '--no-verify', '--force', 'origin', `${edited}:refs/consortium/leases`]));
  must(yuki.git(['update-ref', 'refs/consortium/leases', edited]));
  must(elena.gc(['sync']));
  assert.match(elena.gc(['lease', 'list']).stderr, /lease table .* cannot be read/);

  const report = json(elena, ['recover']);
  const repaired = report.actions.find((a: any) => a.action === 'repair-lease-table');
  assert.ok(repaired, JSON.stringify(report.actions));
  assert.is(repaired.done, true);
  const fixed = bodyOf(elena, 'refs/consortium/leases');
  assert.ok(Number.isSafeInteger(fixed.seq), `seq ${fixed.seq}`);
  assert.ok(
    fixed.leases.some((l: any) => l.pattern === 'src/kept.py'),
    `the leases it held are kept: ${JSON.stringify(fixed)} ${JSON.stringify(table)}`,
  );
  assert.not.ok(warnsOfRecords(elena.gc(['lease', 'list']).stderr));
  // The other machine's own copy (the hand-edited one) is restored by its recover.
  must(yuki.gc(['recover']));
  assert.not.ok(warnsOfRecords(yuki.gc(['lease', 'list']).stderr));
  // And the table advances again, one by one.
  json(yuki, ['lease', 'acquire', 'src/next.py', '--allow-missing', '--session', s.id]);
  assert.is(bodyOf(yuki, 'refs/consortium/leases').seq, fixed.seq + 1);
  must(yuki.gc(['end', '--session', s.id]));
});

test.run();
