import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { consortium, json, must } from '../helpers/sandbox.js';

const { m, cleanup } = consortium(['elena', 'yuki', 'aria']);
const { elena, yuki } = m;

test.after(cleanup);

test('start creates and checks out a session branch and status shows it', () => {
  const started = json(elena, ['start', '-r', 'elena-vasquez', '--intent', 'statistical validation']);
  assert.match(started.id, /^\d{8}-\d{9}-[0-9a-f]{6}$/);
  assert.match(started.branch, /^claude-elena-vasquez-\d{8}-\d{6}$/);
  assert.is(started.state, 'active');
  assert.is(started.intent, 'statistical validation');
  assert.is(must(elena.git(['branch', '--show-current'])).stdout.trim(), started.branch);
  const status = json(elena, ['status']);
  assert.is(status.researcher, 'elena-vasquez', 'identity comes from the session branch');
  assert.equal(
    status.sessions.map((s: any) => s.id),
    [started.id],
  );
  for (const key of [
    'id',
    'researcher',
    'branch',
    'worktree',
    'host',
    'state',
    'intent',
    'startedAt',
    'heartbeatAt',
    'agent',
    'changedFiles',
    'leases',
  ]) {
    assert.ok(key in status.sessions[0], `status session has ${key}`);
  }
});

test('start refuses a second session on the same worktree and branch, unless --shared', () => {
  const refused = elena.gc(['start', '-r', 'elena-vasquez']);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /active on this worktree/);
  assert.match(refused.stderr, /--worktree/);
  const shared = json(elena, ['start', '-r', 'yuki-tanaka', '--shared']);
  const status = json(elena, ['status']);
  assert.is(status.sessions.length, 2);
  const conflict = status.conflicts.find((c: any) => c.kind === 'worktree');
  assert.ok(conflict, 'two sessions on one worktree is a worktree conflict');
  assert.is(conflict.severity, 'medium');
  assert.ok(conflict.sessions.includes(shared.id));
  must(elena.gc(['end', '--session', shared.id]));
});

test('identity comes from the workspace folder where no session says otherwise, and a command that needs one says how to give it', () => {
  const here = json(yuki, ['orient'], { cwd: 'consortium/elena-vasquez' });
  assert.is(here.researcher, 'elena-vasquez');
  const nobody = yuki.gc(['start']);
  assert.is(nobody.code, 2);
  assert.match(nobody.stderr, /--researcher/);
  assert.match(nobody.stderr, /CONSORTIUM_RESEARCHER/);
  assert.match(nobody.stderr, /consortium\.researcher/);
  const fromConfig = yuki.git(['config', 'consortium.researcher', 'yuki-tanaka']);
  must(fromConfig);
  assert.is(json(yuki, ['orient']).researcher, 'yuki-tanaka');
  must(yuki.git(['config', '--unset', 'consortium.researcher']));
});

test('a folder under consortium/ that is not a listed researcher is not a workspace', () => {
  const r = yuki.gc(['start'], { cwd: 'consortium/communications' });
  assert.is(r.code, 2);
});

test('end ends the current session; ended sessions show only with --all', () => {
  const before = json(elena, ['status']);
  const mine = before.sessions.find((s: any) => s.researcher === 'elena-vasquez');
  const ended = json(elena, ['end']);
  assert.is(ended.id, mine.id);
  assert.is(ended.state, 'ended');
  assert.is(json(elena, ['status']).sessions.length, 0);
  const all = json(elena, ['status', '--all']);
  assert.is(all.sessions.find((s: any) => s.id === mine.id).state, 'ended');
  const again = elena.gc(['end', '--session', mine.id]);
  assert.is(again.code, 1);
  assert.match(again.stderr, /already ended/);
  const history = must(elena.git(['log', '--format=%s', `refs/consortium/sessions/${mine.id}`])).stdout;
  assert.match(history, /: end\n.*: start/s, 'the whole history of the record is kept');
});

test('a session goes stale when its heartbeats stop, and is no longer active', () => {
  const s = json(yuki, ['start', '-r', 'yuki-tanaka']);
  const later = new Date(Date.parse(s.heartbeatAt) + 31 * 60_000).toISOString();
  const status = json(yuki, ['status', '--all'], { env: { CONSORTIUM_CLOCK: later } });
  assert.is(status.sessions.find((x: any) => x.id === s.id).state, 'stale');
  assert.is(json(yuki, ['status'], { env: { CONSORTIUM_CLOCK: later } }).sessions.length, 0);
  must(yuki.gc(['heartbeat'], { env: { CONSORTIUM_CLOCK: later } }));
  const after = json(yuki, ['status'], { env: { CONSORTIUM_CLOCK: later } });
  assert.is(after.sessions.length, 1, 'a heartbeat makes it active again');
  must(yuki.gc(['end']));
});

test('a corrupt record is skipped with a warning and never hides the others', () => {
  const good = json(elena, ['start', '-r', 'elena-vasquez', '--no-branch']);
  const blob = must(elena.git(['hash-object', '-w', '--stdin'], { input: 'garbage' })).stdout.trim();
  must(elena.git(['update-ref', 'refs/consortium/sessions/20200101-000000000-aaaaaa', blob]));
  const tree = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
  const bad = must(elena.git(['commit-tree', tree, '-m', 'session x\n\n{not json'])).stdout.trim();
  must(elena.git(['update-ref', 'refs/consortium/sessions/20200101-000000000-bbbbbb', bad]));
  const result = elena.gc(['status', '--json']);
  assert.is(result.code, 0);
  assert.equal(
    JSON.parse(result.stdout).sessions.map((s: any) => s.id),
    [good.id],
  );
  assert.match(result.stderr, /aaaaaa.*not a commit/);
  assert.match(result.stderr, /bbbbbb.*not valid JSON/);
  must(elena.git(['update-ref', '-d', 'refs/consortium/sessions/20200101-000000000-aaaaaa']));
  must(elena.git(['update-ref', '-d', 'refs/consortium/sessions/20200101-000000000-bbbbbb']));
  must(elena.gc(['end']));
});

test('ten start --shared processes at once in one clone: ten sessions, none lost', async () => {
  const results = await Promise.all(
    Array.from({ length: 10 }, () => elena.gcAsync(['start', '-r', 'aria-blackwood', '--shared', '--json'])),
  );
  for (const r of results) assert.is(r.code, 0, r.stderr);
  const ids = results.map((r) => JSON.parse(r.stdout).id);
  assert.is(new Set(ids).size, 10);
  const status = json(elena, ['status']);
  for (const id of ids)
    assert.ok(
      status.sessions.some((s: any) => s.id === id),
      `session ${id} survived`,
    );
  assert.is(must(elena.git(['fsck', '--no-progress'])).code, 0);
  for (const id of ids) must(elena.gc(['end', '--session', id]));
});

test("start --worktree with the user's own git settings in the environment works as git would", () => {
  // A credential helper given through GIT_CONFIG_*: git honours it, and so must the toolkit.
  const r = yuki.gc(
    ['start', '-r', 'yuki-tanaka', '--worktree', path.join(yuki.world.root, 'yuki-env-wt'), '--json'],
    {
      env: { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'credential.helper', GIT_CONFIG_VALUE_0: 'store' },
    },
  );
  assert.is(r.code, 0, r.stderr);
  assert.ok(existsSync(path.join(yuki.world.root, 'yuki-env-wt', '.git')));
  must(yuki.gc(['end', '--session', JSON.parse(r.stdout).id]));
});

test('start --worktree into a folder that exists is refused with exit 2, leaving no branch behind', () => {
  const branches = must(yuki.git(['branch', '--list'])).stdout;
  const r = yuki.gc(['start', '-r', 'yuki-tanaka', '--worktree', elena.dir]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /already exists: give --worktree a new folder/);
  assert.is(must(yuki.git(['branch', '--list'])).stdout, branches, 'no branch was created');
});

test('outside a git repository every command exits 3 with a plain message', () => {
  const outside = mkdtempSync(path.join(tmpdir(), 'gc-outside-'));
  for (const args of [['status'], ['start', '-r', 'x'], ['orient'], ['end'], ['heartbeat']]) {
    const r = elena.gc(args, { cwd: outside });
    assert.is(r.code, 3, `${args[0]} exits 3`);
    assert.match(r.stderr, /Not inside a git repository/);
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('a repository without any configuration works on the defaults', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gc-bare-'));
  must(elena.git(['init', '-q', '-b', 'main'], { cwd: dir }));
  mkdirSync(path.join(dir, 'consortium', 'sam'), { recursive: true });
  writeFileSync(path.join(dir, 'consortium', 'sam', 'a.txt'), 'x');
  must(elena.git(['add', '-A'], { cwd: dir }));
  must(elena.git(['commit', '-qm', 'x'], { cwd: dir }));
  const s = json(elena, ['start'], { cwd: path.join(dir, 'consortium', 'sam') });
  assert.is(s.researcher, 'sam');
  assert.match(s.branch, /^claude-sam-/);
});

test.run();
