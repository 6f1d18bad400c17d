import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { refContents, resolveRef, updateRef } from '../../src/git/refs.js';
import { openRepo } from '../../src/git/repo.js';

/**
 * What git/refs.ts keeps between git processes (in a command, and between commands in a local
 * file) must never hide a change: each case moves a ref another way and reads it back.
 */
const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'gc-refs-')));
test.after(() => rmSync(root, { recursive: true, force: true }));
const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: root };
const git = (args: string[]) => {
  const r = spawnSync('git', args, { cwd: root, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};
git(['init', '-q', '-b', 'main']);
const commit = (m: string) =>
  git([
    '-c',
    'user.name=t',
    '-c',
    'user.email=t@e',
    'commit-tree',
    '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
    '-m',
    m,
  ]);
const [a, b, c] = [commit('a'), commit('b'), commit('c')];
git(['update-ref', 'refs/heads/main', a]);

test('revisions that are not plain ref names are read by git', () => {
  const repo = openRepo(root);
  assert.is(resolveRef(repo, 'refs/heads/main^{commit}'), a);
  assert.is(resolveRef(repo, 'refs/heads/main'), a);
  assert.is(resolveRef(repo, 'refs/heads/nothing'), undefined);
});

test('a ref this command moves is read anew, a branch and a private ref alike', () => {
  const repo = openRepo(root);
  assert.is(resolveRef(repo, 'refs/heads/main'), a);
  assert.ok(updateRef(repo, 'refs/heads/main', b, a));
  assert.is(resolveRef(repo, 'refs/heads/main'), b);
  assert.is(resolveRef(repo, 'refs/notes/consortium-tmp-1'), undefined);
  assert.ok(updateRef(repo, 'refs/notes/consortium-tmp-1', c));
  assert.is(resolveRef(repo, 'refs/notes/consortium-tmp-1'), c);
});

test('coordination refs kept between commands: a change by another process is seen by the next command', () => {
  git(['update-ref', 'refs/consortium/sessions/s1', a]);
  assert.equal(
    refContents(openRepo(root), ['refs/consortium/sessions/']).map((r) => r.sha),
    [a],
  );
  git(['update-ref', 'refs/consortium/sessions/s1', b]);
  assert.equal(
    refContents(openRepo(root), ['refs/consortium/sessions/']).map((r) => r.sha),
    [b],
  );
  git(['pack-refs', '--all']);
  git(['update-ref', '-d', 'refs/consortium/sessions/s1']);
  assert.equal(refContents(openRepo(root), ['refs/consortium/sessions/']), []);
});

test('a ref written by this command is known with its content, without reading it back', () => {
  const repo = openRepo(root);
  assert.equal(refContents(repo, ['refs/consortium/leases']), []);
  assert.ok(updateRef(repo, 'refs/consortium/leases', c));
  assert.equal(
    refContents(repo, ['refs/consortium/leases']).map((r) => [r.sha, r.message.trim()]),
    [[c, 'c']],
  );
});

test.run();
