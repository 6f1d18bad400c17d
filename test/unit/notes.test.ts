import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openRepo } from '../../src/git/repo.js';
import { addNotes } from '../../src/store/notes.js';

/**
 * Notes written in bulk (one fast-import) into a notes tree that git already fanned out: each
 * note stays in the tree once, so git itself can still merge and show them.
 */
const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'gc-notes-')));
test.after(() => rmSync(root, { recursive: true, force: true }));
const env = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  HOME: root,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@e',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@e',
};
const git = (args: string[], input?: string) => {
  const r = spawnSync('git', args, { cwd: root, env, input, encoding: 'utf8' });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr };
};
git(['init', '-q', '-b', 'main']);
const commits = ['a', 'b'].map(
  (m) => git(['commit-tree', '4b825dc642cb6eb9a060e54bf8d69288fbee4904', '-m', m]).out,
);
const AUTHOR = { name: 'test', email: 'test@example.org' };

test('a note at a fanned-out path is replaced there, not added a second time at another depth', () => {
  const [c] = commits as [string];
  // A notes tree as git writes it once it holds many notes: the note under ab/cdef...
  const fanned = `${c.slice(0, 2)}/${c.slice(2)}`;
  const text = '{"type":"old","at":"1"}\n';
  const made = git(
    ['fast-import', '--quiet'],
    `commit refs/notes/consortium\ncommitter t <t@e> 1 +0000\ndata 1\nx\nM 100644 inline ${fanned}\ndata ${text.length}\n${text}\n`,
  );
  assert.is(made.code, 0, made.err);
  assert.ok(
    addNotes(
      openRepo(root),
      [
        { commit: c, entry: { type: 'new', at: '2' } },
        { commit: commits[1]!, entry: { type: 'new', at: '2' } },
      ],
      AUTHOR,
    ),
  );
  const paths = git(['ls-tree', '-r', '--name-only', 'refs/notes/consortium']).out.split('\n');
  const flat = paths.map((p) => p.replace(/\//g, ''));
  assert.is(new Set(flat).size, flat.length, `each note once: ${paths.join(', ')}`);
  const shown = git(['notes', '--ref=consortium', 'show', c]).out;
  assert.match(shown, '"type":"old"');
  assert.match(shown, '"type":"new"');
  // git's own merge of notes reads the tree (it aborts on a note found twice).
  git(['notes', '--ref=other', 'add', '-m', '{"type":"theirs","at":"3"}', c]);
  git(['update-ref', 'refs/notes/copy', 'refs/notes/consortium']);
  const merged = git(['notes', '--ref=copy', 'merge', '--strategy=cat_sort_uniq', 'refs/notes/other']);
  assert.is(merged.code, 0, merged.err);
  assert.match(git(['notes', '--ref=copy', 'show', c]).out, '"type":"theirs"');
});

test.run();
