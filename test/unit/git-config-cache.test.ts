import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { configMatchingKept } from '../../src/git/config-cache.js';
import { openRepo } from '../../src/git/repo.js';

/**
 * The git configuration kept between commands (git/config-cache.ts) must never hide a change:
 * each case changes a setting the way a person would and reads it back at once, and a shim on
 * PATH counts the git processes, so that an answer given again is seen to cost none.
 */
const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'gc-config-cache-')));
const home = path.join(root, 'home');
const repoDir = path.join(root, 'repo');
const shim = path.join(root, 'bin');
const log = path.join(root, 'git.log');
mkdirSync(home);
mkdirSync(shim);
const real = spawnSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).stdout.trim();
writeFileSync(path.join(shim, 'git'), `#!/bin/sh\necho "$*" >> "${log}"\nexec "${real}" "$@"\n`);
chmodSync(path.join(shim, 'git'), 0o755);

const saved = { ...process.env };
test.before(() => {
  Object.assign(process.env, { HOME: home, GIT_CONFIG_NOSYSTEM: '1', PATH: `${shim}:${saved.PATH}` });
  for (const name of ['XDG_CONFIG_HOME', 'GIT_CONFIG_GLOBAL', 'GIT_CONFIG_PARAMETERS', 'GIT_CONFIG_COUNT'])
    delete process.env[name];
});
test.after(() => {
  process.env = saved;
  rmSync(root, { recursive: true, force: true });
});

const git = (args: string[], cwd = repoDir) => {
  const r = spawnSync(real, args, { cwd, env: process.env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
};
const PATTERN = '^consortium\\..*$';
/** The kept answer for consortium.* and how many git processes reading it started. */
const read = () => {
  rmSync(log, { force: true });
  const value = configMatchingKept(openRepo(repoDir), PATTERN).get('consortium.mode');
  let calls = 0;
  try {
    calls = readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    // no log: no git process
  }
  return { value, calls };
};
/** Past the window in which a file's times cannot vouch for it (git/stamps.ts). */
const settle = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 150);

test.before.each(() => {
  rmSync(repoDir, { recursive: true, force: true });
  rmSync(path.join(home, '.gitconfig'), { force: true });
  git(['init', '-q', repoDir], root);
  git(['config', 'consortium.mode', 'strict']);
  settle();
});

test('an unchanged configuration is answered without a git process', () => {
  assert.is(read().value, 'strict');
  const again = read();
  assert.is(again.value, 'strict');
  assert.is(again.calls, 0);
});

test('a change by `git config` in the repository is seen by the very next read', () => {
  read();
  git(['config', 'consortium.mode', 'lenient']);
  assert.is(read().value, 'lenient');
  git(['config', '--unset', 'consortium.mode']);
  assert.is(read().value, undefined);
});

test("a setting added to the user's ~/.gitconfig is seen, and one file's change does not need another's", () => {
  git(['config', '--unset', 'consortium.mode']);
  settle();
  assert.is(read().value, undefined);
  writeFileSync(path.join(home, '.gitconfig'), '[consortium]\n\tmode = from-home\n');
  assert.is(read().value, 'from-home');
});

test('a file rewritten in place within the same clock tick is asked of git again', () => {
  const config = path.join(repoDir, '.git', 'config');
  const before = readFileSync(config, 'utf8');
  // Read right after the write: the file's times are too recent to vouch for it.
  git(['config', 'consortium.mode', 'abcdef']);
  assert.is(read().value, 'abcdef');
  writeFileSync(config, readFileSync(config, 'utf8').replace('abcdef', 'ghijkl'));
  assert.is(read().value, 'ghijkl');
  assert.not.equal(before, readFileSync(config, 'utf8'));
});

test('a configuration with an include is asked of git every time, and the included file is followed', () => {
  const extra = path.join(root, 'extra.gitconfig');
  writeFileSync(extra, '[consortium]\n\tmode = included\n');
  git(['config', '--unset', 'consortium.mode']);
  git(['config', 'include.path', extra]);
  settle();
  assert.is(read().value, 'included');
  writeFileSync(extra, '[consortium]\n\tmode = changed\n');
  const again = read();
  assert.is(again.value, 'changed');
  assert.is(again.calls, 1);
});

test('settings given by `git -c` (GIT_CONFIG_PARAMETERS) are honoured, not the kept answer', () => {
  read();
  process.env.GIT_CONFIG_PARAMETERS = "'consortium.mode'='from-command-line'";
  try {
    assert.is(read().value, 'from-command-line');
  } finally {
    delete process.env.GIT_CONFIG_PARAMETERS;
  }
  assert.is(read().value, 'strict');
});

test('another HOME is another answer', () => {
  writeFileSync(path.join(home, '.gitconfig'), '[consortium]\n\tmode = home-one\n');
  git(['config', '--unset', 'consortium.mode']);
  settle();
  assert.is(read().value, 'home-one');
  const other = path.join(root, 'home-two');
  mkdirSync(other, { recursive: true });
  writeFileSync(path.join(other, '.gitconfig'), '[consortium]\n\tmode = home-two\n');
  process.env.HOME = other;
  try {
    assert.is(read().value, 'home-two');
  } finally {
    process.env.HOME = home;
  }
});

test.run();
