import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Machine } from '../../src/demo/world.js';
import { consortium, json, must } from '../helpers/sandbox.js';

/**
 * post-checkout and post-commit through real git: auto-registration of session branches,
 * hooks active in every kind of linked worktree, the off switches, and a missing or broken
 * toolkit that never breaks git.
 */
const { world, m, cleanup } = consortium(['elena']);
const { elena } = m;
test.after(cleanup);

const BRANCH = 'claude-elena-vasquez-20261125-100000';
const all = (cwd?: string) => json(elena, ['status', '--all'], { cwd }).sessions as any[];
const ours = (stderr: string) => stderr.split('\n').filter((l) => /git-consortium[ :(]/.test(l));

// Setup (it asserts nothing of its own: a failure here stops the file).
test.before(() => {
  must(elena.gc(['init']));
});

test('a file checkout and a checkout of an ordinary branch register nothing and print nothing', () => {
  elena.write('src/shared.py', 'changed\n');
  const file = elena.git(['checkout', '--', 'src/shared.py']);
  assert.is(file.code, 0);
  assert.equal(ours(file.stderr), []);
  const plain = elena.git(['checkout', '-b', 'feature-x']);
  assert.is(plain.code, 0);
  assert.equal(ours(plain.stderr), []);
  assert.is(all().length, 0);
});

test('checking out a session branch registers one session for it; coming back refreshes it', () => {
  const r = elena.git(['checkout', '-b', BRANCH]);
  assert.is(r.code, 0);
  assert.is(ours(r.stderr).length, 1, 'at most one line');
  assert.match(r.stderr, /registered session .* for elena-vasquez/);
  const sessions = all();
  assert.is(sessions.length, 1);
  assert.is(sessions[0].branch, BRANCH);
  assert.is(sessions[0].worktree, realpathSync(elena.dir));
  assert.is(sessions[0].state, 'active');
  must(elena.git(['checkout', '-q', 'main']));
  const back = elena.git(['checkout', BRANCH]);
  assert.equal(ours(back.stderr), []);
  assert.is(all().length, 1, 'no second session for the same worktree and branch');
});

test('post-commit refreshes the session: head and changed files', () => {
  elena.commit('Statistics', { 'consortium/elena-vasquez/stats.md': 'p < 0.01\n' });
  const [session] = all();
  assert.equal(session.changedFiles, ['consortium/elena-vasquez/stats.md']);
  assert.is(session.head, must(elena.git(['rev-parse', 'HEAD'])).stdout.trim());
});

test('another session branch gets its own session; the previous one is left as it is', () => {
  const other = 'claude-elena-vasquez-20261125-110000';
  must(elena.git(['checkout', '-q', '-b', other, 'main']));
  const sessions = all();
  assert.is(sessions.length, 2);
  assert.ok(sessions.every((s) => s.state === 'active'));
  must(elena.git(['checkout', '-q', BRANCH]));
});

test("someone who says who they are, checking out another researcher's session branch, registers nothing", () => {
  must(elena.git(['config', 'consortium.researcher', 'elena-vasquez']));
  const before = all().length;
  const r = elena.git(['checkout', '-b', 'claude-yuki-tanaka-20261125-100000', 'main']);
  assert.is(r.code, 0);
  assert.match(r.stderr, /yuki-tanaka's session branch: no session registered for you \(elena-vasquez\)/);
  assert.is(all().length, before);
  must(elena.git(['config', '--unset', 'consortium.researcher']));
  must(elena.git(['checkout', '-q', BRANCH]));
});

test('start registers exactly one session (its own checkout does not register another)', () => {
  must(elena.git(['checkout', '-q', 'main']));
  const started = json(elena, ['start', '-r', 'elena-vasquez']);
  const mine = all().filter((s) => s.branch === started.branch);
  assert.is(mine.length, 1);
  must(elena.gc(['end', '--session', started.id]));
});

test('git worktree add of a session branch registers it there, and hooks run in the new worktree', () => {
  const branch = 'claude-elena-vasquez-20261125-120000';
  const wt = path.join(world.root, 'elena-wt');
  const r = elena.git(['worktree', 'add', '-b', branch, wt, 'main']);
  assert.is(r.code, 0, r.stderr);
  const session = all().find((s) => s.branch === branch);
  assert.ok(session, r.stderr);
  assert.is(session.worktree, realpathSync(wt));
  new Machine(world, 'elena', wt).commit('In the worktree', { 'consortium/elena-vasquez/wt.md': 'x\n' });
  const after = all().find((s) => s.branch === branch);
  assert.equal(
    after.changedFiles,
    ['consortium/elena-vasquez/wt.md'],
    'post-commit ran in the linked worktree',
  );
});

test('start --worktree leaves hooks active in its new worktree', () => {
  must(elena.git(['checkout', '-q', 'main']));
  const wt = path.join(world.root, 'elena-start-wt');
  const started = json(elena, ['start', '-r', 'elena-vasquez', '--worktree', wt]);
  const doctor = JSON.parse(elena.gc(['doctor', '--json'], { cwd: wt }).stdout);
  const here = doctor.checks.find((c: any) => c.name === 'hooks active in this worktree');
  assert.is(here.level, 'ok', JSON.stringify(doctor.checks));
  new Machine(world, 'elena', wt).commit('Worktree work', { 'consortium/elena-vasquez/s.md': 's\n' });
  const session = all().find((s) => s.id === started.id);
  assert.equal(session.changedFiles, ['consortium/elena-vasquez/s.md']);
});

test("a worktree made without any checkout (as tools such as Claude Code's may) has active hooks too", () => {
  const branch = 'claude-elena-vasquez-20261125-130000';
  const wt = path.join(elena.dir, '.claude', 'worktrees', 'agent-1');
  must(elena.git(['worktree', 'add', '--no-checkout', '-b', branch, wt, 'main']));
  assert.not.ok(
    all().some((s) => s.branch === branch),
    'no post-checkout ran yet',
  );
  must(elena.git(['reset', '-q', '--hard'], { cwd: wt }));
  must(elena.git(['checkout', '-q', branch], { cwd: wt }));
  const session = all().find((s) => s.branch === branch);
  assert.ok(session, 'post-checkout ran in the new worktree');
  assert.is(session.worktree, realpathSync(wt));
});

test('the hooks keep V8 code in the user cache; a damaged or stale cache is rewritten and changes nothing', () => {
  const cache = path.join(elena.env().HOME!, '.cache', 'git-consortium');
  const post = () => elena.git(['checkout', BRANCH]);
  must(elena.git(['checkout', '-q', 'main']));
  assert.is(post().code, 0);
  const [file] = readdirSync(cache).filter((f) => f.startsWith('hooks-') && f.endsWith('.v8'));
  assert.ok(file, 'a hook that ran wrote its code cache');
  const written = readFileSync(path.join(cache, file));
  assert.ok(written.length > 10_000);
  writeFileSync(path.join(cache, file), 'not V8 code');
  must(elena.git(['checkout', '-q', 'main']));
  const again = post();
  assert.is(again.code, 0);
  assert.equal(ours(again.stderr), []);
  assert.ok(readFileSync(path.join(cache, file)).length > 10_000, 'the damaged cache was replaced');
  assert.is(all().filter((s) => s.branch === BRANCH).length, 1);
});

test('CONSORTIUM=0 and HUSKY=0 turn the hooks off', () => {
  for (const [i, off] of [{ CONSORTIUM: '0' }, { HUSKY: '0' }].entries()) {
    const branch = `claude-elena-vasquez-20261125-14000${i}`;
    const before = all().length;
    const r = elena.git(['checkout', '-b', branch, 'main'], { env: off });
    assert.is(r.code, 0);
    assert.equal(ours(r.stderr), []);
    assert.is(all().length, before);
  }
});

test('a missing toolkit costs one line and git goes on; nothing is downloaded', () => {
  const env = {
    PATH: (process.env.PATH ?? '')
      .split(path.delimiter)
      .filter((d) => d !== world.bin)
      .join(path.delimiter),
  };
  const r = elena.git(['checkout', '-b', 'claude-elena-vasquez-20261125-150000', 'main'], { env });
  assert.is(r.code, 0);
  const lines = r.stderr.split('\n').filter((l) => /git-consortium/.test(l));
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /not installed/);
  elena.write('consortium/elena-vasquez/x.md', 'x\n');
  must(elena.git(['add', '-A'], { env }));
  const commit = elena.git(['commit', '-q', '-m', 'without the toolkit'], { env });
  assert.is(commit.code, 0);
});

test('a toolkit that cannot start, or that fails, never loses a commit or a change', () => {
  const broken = path.join(world.root, 'broken-bin');
  mkdirSync(broken, { recursive: true });
  writeFileSync(path.join(broken, 'git-consortium'), '#!/nonexistent/interpreter\n');
  chmodSync(path.join(broken, 'git-consortium'), 0o755);
  const env = { PATH: `${broken}${path.delimiter}${process.env.PATH}` };
  must(elena.git(['checkout', '-q', BRANCH]));
  elena.write('consortium/elena-vasquez/y.md', 'y\n');
  must(elena.git(['add', '-A']));
  const r = elena.git(['commit', '-q', '-m', 'broken toolkit'], { env });
  assert.is(r.code, 0, r.stderr);
  assert.match(must(elena.git(['log', '-1', '--format=%s'])).stdout, /broken toolkit/);

  // An invalid configuration in the worktree makes the toolkit fail: one line, commit kept.
  elena.write('consortium.config.yaml', 'nonsense: [\n');
  elena.write('consortium/elena-vasquez/z.md', 'z\n');
  must(elena.git(['add', 'consortium/elena-vasquez/z.md']));
  const failing = elena.git(['commit', '-q', '-m', 'bad config']);
  assert.is(failing.code, 0);
  assert.is(ours(failing.stderr).length, 1, failing.stderr);
  assert.match(must(elena.git(['log', '-1', '--format=%s'])).stdout, /bad config/);
  assert.ok(existsSync(path.join(elena.dir, 'consortium.config.yaml')), 'the change is still there');
  must(elena.git(['checkout', '--', 'consortium.config.yaml']));
});

test("without git-consortium on PATH, the hooks find the main worktree's node_modules/.bin, also from a linked worktree", () => {
  const bin = path.join(elena.dir, 'node_modules', '.bin');
  mkdirSync(bin, { recursive: true });
  symlinkSync(path.join(world.bin, 'git-consortium'), path.join(bin, 'git-consortium'));
  const env = {
    PATH: (process.env.PATH ?? '')
      .split(path.delimiter)
      .filter((d) => d !== world.bin)
      .join(path.delimiter),
  };
  const branch = 'claude-elena-vasquez-20261125-160000';
  const wt = path.join(world.root, 'elena-wt-local');
  const r = elena.git(['worktree', 'add', '-b', branch, wt, 'main'], { env });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /registered session/);
  assert.ok(all().some((s) => s.branch === branch && s.worktree === realpathSync(wt)));
  rmSync(path.join(elena.dir, 'node_modules'), { recursive: true, force: true });
});

test.run();
