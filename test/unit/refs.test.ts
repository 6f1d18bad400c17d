import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readBranchRefFiles, readRefFiles } from '../../src/git/ref-files.js';
import { branchRefs, refContents, resolveRef, updateRef } from '../../src/git/refs.js';
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

test("branches read from git's files are what for-each-ref lists: packed, loose over packed, nested, symbolic", () => {
  const gitDir = path.join(root, '.git');
  const listed = () => {
    const out = git([
      'for-each-ref',
      '--format=%(refname)%00%(objectname)%00%(symref)',
      'refs/heads/',
      'refs/remotes/',
    ]);
    return out
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\0'));
  };
  const read = () => [...(readBranchRefFiles(gitDir) ?? new Map())].map(([ref, r]) => [ref, r.sha, r.symref]);
  git(['update-ref', 'refs/heads/feature/deep/x', b]);
  git(['update-ref', 'refs/remotes/origin/main', a]);
  git(['update-ref', 'refs/remotes/origin/claude-elena-1', c]);
  git(['symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/remotes/origin/main']);
  assert.equal(read(), listed(), 'loose');
  git(['pack-refs', '--all']);
  assert.equal(read(), listed(), 'packed');
  git(['update-ref', 'refs/heads/feature/deep/x', c]);
  git(['update-ref', 'refs/heads/later', a]);
  assert.equal(read(), listed(), 'loose over packed');
  git(['update-ref', '-d', 'refs/remotes/origin/claude-elena-1']);
  assert.equal(read(), listed(), 'a packed ref deleted');
  assert.equal(
    [...branchRefs(openRepo(root))].map(([ref, r]) => [ref, r.sha, r.symref]),
    listed(),
  );
  // A lock file is a write under way, not a ref.
  writeFileSync(path.join(gitDir, 'refs', 'heads', 'later.lock'), `${b}\n`);
  assert.equal(read(), listed(), 'a lock file');
  rmSync(path.join(gitDir, 'refs', 'heads', 'later.lock'));
});

test("coordination refs read from git's files are what for-each-ref lists: a notes ref itself and folders", () => {
  const gitDir = path.join(root, '.git');
  const patterns = [
    'refs/consortium/',
    'refs/consortium-remote/',
    'refs/notes/consortium',
    'refs/notes/consortium-remote',
  ];
  const listed = () =>
    git(['for-each-ref', '--format=%(refname) %(objectname)', ...patterns])
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' '));
  const read = () => [...(readRefFiles(gitDir, patterns) ?? new Map())].map(([ref, r]) => [ref, r.sha]);
  git(['update-ref', 'refs/notes/consortium', a]);
  git(['update-ref', 'refs/notes/consortium-remote', b]);
  git(['update-ref', 'refs/notes/consortium-other', c]); // under neither pattern
  git(['update-ref', 'refs/consortium-remote/sessions/s2', c]);
  git(['update-ref', 'refs/consortium/gates/g_1.x', b]);
  assert.equal(read(), listed(), 'loose');
  git(['pack-refs', '--all']);
  git(['update-ref', 'refs/consortium/sessions/s3', a]);
  assert.equal(read(), listed(), 'packed and loose');
  // A name git would list but this reader does not vouch for goes to git, which lists it.
  git(['update-ref', 'refs/consortium/sessions/été', a]);
  assert.is(readRefFiles(gitDir, patterns), undefined, 'a name outside plain ASCII');
  assert.ok(
    refContents(openRepo(root), ['refs/consortium/sessions/']).some((r) => r.ref.endsWith('été')),
    'and git lists it',
  );
  git(['update-ref', '-d', 'refs/consortium/sessions/été']);
  assert.equal(read(), listed(), 'back to plain names');
  // A symbolic link's own stamp does not change with its target; a null id git skips as broken.
  const notes = path.join(gitDir, 'refs', 'notes', 'consortium');
  rmSync(notes, { force: true });
  writeFileSync(path.join(root, 'target'), `${c}\n`);
  symlinkSync(path.join(root, 'target'), notes);
  assert.is(readRefFiles(gitDir, patterns), undefined, 'a symbolic link');
  rmSync(notes);
  writeFileSync(notes, `${'0'.repeat(40)}\n`);
  assert.is(readRefFiles(gitDir, patterns), undefined, 'the null id');
  rmSync(notes);
  assert.equal(read(), listed(), 'the notes ref gone');
});

test("anything git's files store would not write is left to git", () => {
  const gitDir = path.join(root, '.git');
  const odd = path.join(gitDir, 'refs', 'heads', 'odd');
  writeFileSync(odd, 'not an id\n');
  assert.is(readBranchRefFiles(gitDir), undefined, 'a ref file of another shape');
  rmSync(odd);
  git(['symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/remotes/origin/gone']);
  assert.is(readBranchRefFiles(gitDir), undefined, 'a symbolic ref to nothing');
  git(['symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/remotes/origin/main']);
  mkdirSync(path.join(gitDir, 'reftable'));
  assert.is(readBranchRefFiles(gitDir), undefined, 'a reftable store');
  rmSync(path.join(gitDir, 'reftable'), { recursive: true });
  assert.ok(readBranchRefFiles(gitDir));
});

test.run();
