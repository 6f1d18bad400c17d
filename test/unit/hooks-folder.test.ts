import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openContext } from '../../src/context/context.js';
import { gitHooksFolder } from '../../src/services/hooks-active.js';

/**
 * SessionStart and status tell whether the toolkit's hooks run from the configuration they
 * already read, without asking git: that answer must be git's own, for every way a person sets
 * core.hooksPath, in the main worktree and in a linked one.
 */
const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'gc-hooks-folder-')));
const home = path.join(root, 'home');
const main = path.join(root, 'repo');
const linked = path.join(root, 'linked');
mkdirSync(home);
const saved = { ...process.env };
const git = (args: string[], cwd = main) => {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return r.stdout.trim();
};

test.before(() => {
  Object.assign(process.env, { HOME: home, GIT_CONFIG_NOSYSTEM: '1' });
  for (const name of ['XDG_CONFIG_HOME', 'GIT_CONFIG_GLOBAL', 'GIT_CONFIG_PARAMETERS', 'GIT_CONFIG_COUNT'])
    delete process.env[name];
  git(['init', '-q', '-b', 'main', main], root);
  git(['-c', 'user.name=t', '-c', 'user.email=t@example.org', 'commit', '-q', '--allow-empty', '-m', 'seed']);
  git(['worktree', 'add', '-q', '-b', 'other', linked]);
});
test.after(() => {
  process.env = saved;
  rmSync(root, { recursive: true, force: true });
});

for (const [label, value] of [
  ['not set', undefined],
  ['relative to the worktree', '.husky/_'],
  ['absolute', '/srv/hooks'],
  ['in the home folder', '~/hooks'],
] as const) {
  test(`core.hooksPath ${label}: the folder git names, in both worktrees`, async () => {
    if (value === undefined) spawnSync('git', ['config', '--unset', 'core.hooksPath'], { cwd: main });
    else git(['config', 'core.hooksPath', value]);
    for (const top of [main, linked]) {
      const gits = path.resolve(top, git(['rev-parse', '--git-path', 'hooks'], top));
      assert.is(gitHooksFolder(await openContext(top)), gits, top);
    }
  });
}

test.run();
