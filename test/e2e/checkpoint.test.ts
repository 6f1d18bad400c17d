import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLI } from '../../src/demo/world.js';
import { consortium, json, must } from '../helpers/sandbox.js';

/** Emergency checkpoints: written when git cannot be used, folded back once it can. */
const { m, world, cleanup } = consortium(['elena', 'yuki']);
const { elena, yuki } = m;
test.after(cleanup);

const dirOf = (dir: string) => path.join(dir, '.claude', 'emergency-sessions');
const pending = (dir: string) =>
  existsSync(dirOf(dir)) ? readdirSync(dirOf(dir)).filter((n) => n.endsWith('.md')) : [];
const folded = (dir: string) =>
  existsSync(path.join(dirOf(dir), 'folded')) ? readdirSync(path.join(dirOf(dir), 'folded')) : [];

/** The record body of a session, read with plain git. */
function record(machine: typeof elena, id: string) {
  const body = must(machine.git(['log', '-1', '--format=%B', `refs/consortium/sessions/${id}`])).stdout;
  return JSON.parse(body.slice(body.indexOf('\n\n') + 2));
}

let session = '';

test('checkpoint with GIT_DIR pointing at nothing writes exactly one file with everything known', () => {
  session = json(elena, ['start', '-r', 'elena-vasquez', '--intent', 'bootstrap']).id;
  const branch = must(elena.git(['branch', '--show-current'])).stdout.trim();
  const r = elena.gc(['checkpoint', '--message', 'bootstrap half done; results in /tmp/boot'], {
    cwd: 'consortium/elena-vasquez',
    env: { GIT_DIR: path.join(elena.dir, 'no-such-dir'), CONSORTIUM_SESSION: session },
  });
  assert.is(r.code, 0, r.stderr);
  const files = pending(elena.dir);
  assert.is(files.length, 1, 'exactly one checkpoint file');
  assert.match(files[0]!, /^session-\d{8}-\d{6}\.md$/);
  const text = readFileSync(path.join(dirOf(elena.dir), files[0]!), 'utf8');
  assert.match(text, /bootstrap half done; results in \/tmp\/boot/);
  assert.match(text, /- Researcher: elena-vasquez \(from workspace folder\)/);
  assert.ok(text.includes(`- Last known session: ${session}`));
  assert.ok(text.includes(`- Branch: ${branch}`), 'the branch, read from .git/HEAD as a file');
  assert.match(text, /- Git: git failed: /, 'and why git could not be used');
  assert.ok(r.stdout.includes(files[0]!));
});

test('the next start folds it back into the session record and says so', () => {
  const r = must(elena.gc(['start', '-r', 'elena-vasquez', '--no-branch', '--shared']));
  assert.match(r.stdout, /Folded the emergency checkpoint session-\d{8}-\d{6}\.md into session /);
  assert.ok(r.stdout.includes(`into session ${session}`), 'into the session it names');
  assert.match(r.stdout, /bootstrap half done/);
  assert.equal(pending(elena.dir), []);
  assert.is(folded(elena.dir).length, 1, 'moved to folded/');
  const checkpoints = record(elena, session).extra.checkpoints;
  assert.is(checkpoints.length, 1);
  assert.is(checkpoints[0].message, 'bootstrap half done; results in /tmp/boot');
  assert.is(checkpoints[0].researcher, 'elena-vasquez');
});

test('a later sync (or start) does not fold it again', () => {
  const s = elena.gc(['sync']);
  assert.is(s.code, 0, s.stderr);
  assert.not.match(s.stdout + s.stderr, /Folded/);
  const again = must(elena.gc(['start', '-r', 'elena-vasquez', '--no-branch', '--shared']));
  assert.not.match(again.stdout, /Folded/);
  assert.is(record(elena, session).extra.checkpoints.length, 1);
  // Even if the file is put back by hand, the record knows it.
  const name = folded(elena.dir)[0]!;
  writeFileSync(
    path.join(dirOf(elena.dir), name),
    readFileSync(path.join(dirOf(elena.dir), 'folded', name), 'utf8'),
  );
  must(elena.gc(['start', '-r', 'elena-vasquez', '--no-branch', '--shared']));
  assert.is(record(elena, session).extra.checkpoints.length, 1, 'never folded twice');
});

test('without git on PATH, checkpoint still works; sync folds it into the current session', () => {
  const current = json(yuki, ['start', '-r', 'yuki-tanaka']).id;
  const r = spawnSync(
    process.execPath,
    [CLI, 'checkpoint', '-r', 'yuki-tanaka', '--message', 'no git here', '--json'],
    {
      cwd: yuki.dir,
      env: { ...yuki.env(), PATH: '/nonexistent' },
      encoding: 'utf8',
    },
  );
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.is(out.researcher, 'yuki-tanaka');
  assert.is(out.session, null, 'no session was known');
  assert.match(out.git, /git is not installed or not on PATH/);
  assert.is(pending(yuki.dir).length, 1);
  const s = must(yuki.gc(['sync']));
  assert.match(
    s.stdout + s.stderr,
    new RegExp(`Folded the emergency checkpoint .* into session ${current}: no git here`),
  );
  assert.is(record(yuki, current).extra.checkpoints[0].message, 'no git here');
  const again = must(yuki.gc(['sync']));
  assert.not.match(again.stdout + again.stderr, /Folded/);
});

test('in a broken repository (HEAD corrupt, an index.lock left behind) checkpoint still writes', () => {
  const broken = world.clone('broken');
  writeFileSync(path.join(broken.dir, '.git', 'index.lock'), '');
  writeFileSync(path.join(broken.dir, '.git', 'HEAD'), 'garbage\n');
  assert.is(broken.git(['status']).code, 128, 'git itself gives up here');
  const r = broken.gc(['checkpoint', '-m', 'repo broke mid-rebase'], { cwd: 'consortium/yuki-tanaka' });
  assert.is(r.code, 0, r.stderr);
  const files = pending(broken.dir);
  assert.is(files.length, 1);
  const text = readFileSync(path.join(dirOf(broken.dir), files[0]!), 'utf8');
  assert.match(text, /repo broke mid-rebase/);
  assert.match(text, /- Researcher: yuki-tanaka \(from workspace folder\)/);
  assert.match(text, /- Branch: \(unknown\)/);
});

test('bad input: an invalid researcher id is refused and nothing is written', () => {
  const r = elena.gc(['checkpoint', '-r', '../evil', '--message', 'x'], {
    env: { GIT_DIR: '/nonexistent' },
  });
  assert.is(r.code, 2);
  assert.match(r.stderr, /not a valid researcher id/);
  assert.equal(pending(elena.dir), [], 'no checkpoint was written');
});

test.run();
