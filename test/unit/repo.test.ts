import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openRepo } from '../../src/git/repo.js';

/**
 * openRepo finds the repository from the file system for the common layouts, so that hooks
 * save a git process; whatever the layout, it must name the same folders git names.
 */
const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'gc-repo-')));
test.after(() => rmSync(root, { recursive: true, force: true }));

const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: root };
const git = (cwd: string, args: string[], extra: NodeJS.ProcessEnv = {}) => {
  const r = spawnSync('git', args, { cwd, env: { ...env, ...extra }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const asGitSays = (cwd: string, extra: NodeJS.ProcessEnv = {}) => {
  const [top, gitDir, common] = git(
    cwd,
    ['rev-parse', '--show-toplevel', '--absolute-git-dir', '--git-common-dir'],
    extra,
  ).split('\n');
  return {
    top: realpathSync(top!),
    gitDir: realpathSync(gitDir!),
    commonDir: realpathSync(path.resolve(cwd, common!)),
  };
};
const asWeSay = (cwd: string, extra: NodeJS.ProcessEnv = {}) => {
  const saved = { ...process.env };
  Object.assign(process.env, extra);
  try {
    const r = openRepo(cwd);
    return { top: realpathSync(r.top), gitDir: realpathSync(r.gitDir), commonDir: realpathSync(r.commonDir) };
  } finally {
    for (const key of Object.keys(extra)) if (saved[key] === undefined) delete process.env[key];
    Object.assign(process.env, saved);
  }
};

const main = path.join(root, 'main');
git(root, ['init', '-q', '-b', 'main', main]);
git(main, ['-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-q', '--allow-empty', '-m', 'x']);
mkdirSync(path.join(main, 'deep', 'er'), { recursive: true });
const linked = path.join(root, 'linked');
git(main, ['worktree', 'add', '-q', '-b', 'side', linked]);
mkdirSync(path.join(linked, 'sub'));

test('the top of a worktree and a folder deep inside it', () => {
  assert.equal(asWeSay(main), asGitSays(main));
  assert.equal(asWeSay(path.join(main, 'deep', 'er')), asGitSays(path.join(main, 'deep', 'er')));
});

test('a linked worktree: its own git folder, and the common folder of the main one', () => {
  const sub = path.join(linked, 'sub');
  assert.equal(asWeSay(sub), asGitSays(sub));
  assert.is(asWeSay(sub).commonDir, realpathSync(path.join(main, '.git')));
});

test('GIT_DIR as git sets it for a hook in a linked worktree', () => {
  const gitDir = asGitSays(linked).gitDir;
  assert.equal(asWeSay(linked, { GIT_DIR: gitDir }), asGitSays(linked, { GIT_DIR: gitDir }));
});

test('a work tree named by GIT_WORK_TREE, and a core.worktree, are left to git and still agree', () => {
  const outside = path.join(root, 'outside');
  mkdirSync(outside);
  const extra = { GIT_DIR: path.join(main, '.git'), GIT_WORK_TREE: main };
  assert.equal(asWeSay(outside, extra), asGitSays(outside, extra));
  const separate = path.join(root, 'separate.git');
  const tree = path.join(root, 'tree');
  mkdirSync(tree);
  git(root, ['init', '-q', '--separate-git-dir', separate, tree]);
  assert.equal(asWeSay(tree), asGitSays(tree));
});

test('a bare repository is refused, as git would have it', () => {
  const bare = path.join(root, 'bare.git');
  git(root, ['init', '-q', '--bare', bare]);
  assert.throws(() => openRepo(bare), /bare repository/);
  assert.throws(() => asWeSay(bare, { GIT_DIR: '.' }), /bare repository/);
});

test('a folder in no repository is refused as git refuses it', () => {
  const nowhere = path.join(root, 'nowhere');
  mkdirSync(nowhere);
  assert.is(spawnSync('git', ['rev-parse', '--git-dir'], { cwd: nowhere, env }).status, 128);
  assert.throws(() => openRepo(nowhere), /Not inside a git repository/);
});

test.run();
