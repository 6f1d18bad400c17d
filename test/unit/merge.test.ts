import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mergeConflict, mergeConflicts, overlappingPairs } from '../../src/analysis/merge.js';
import { parseMergeTreeBatch } from '../../src/git/merge-tree.js';

const item = (id: string, files: string[]) => ({ id, files });
const ids = (pairs: [{ id: string }, { id: string }][]) => pairs.map(([a, b]) => `${a.id}-${b.id}`);

test('only pairs whose files overlap are merged, each pair once, in input order', () => {
  const items = [
    item('a', ['src/x.py', 'src/y.py']),
    item('b', ['src/y.py', 'src/x.py']),
    item('c', ['docs/readme.md']),
    item('d', ['src/x.py']),
  ];
  assert.equal(ids(overlappingPairs(items)), ['a-b', 'a-d', 'b-d']);
});

test('no overlap, no pairs; a session with no files pairs with nobody', () => {
  assert.equal(overlappingPairs([item('a', ['x']), item('b', ['y']), item('c', [])]), []);
  assert.equal(overlappingPairs([item('a', ['x'])]), []);
  assert.equal(overlappingPairs([]), []);
});

test('fifty sessions on one file give every pair exactly once', () => {
  const items = Array.from({ length: 50 }, (_, i) => item(`s${i}`, ['shared.txt', `own-${i}.txt`]));
  const pairs = ids(overlappingPairs(items));
  assert.is(pairs.length, (50 * 49) / 2);
  assert.is(new Set(pairs).size, pairs.length);
});

const elena = {
  session: '20261125-090000000-aaaaaa',
  researcher: 'elena-vasquez',
  branch: 'claude-elena',
  ref: 'origin/claude-elena',
};
const yuki = {
  session: '20261125-090001000-bbbbbb',
  researcher: 'yuki-tanaka',
  branch: 'claude-yuki',
  ref: 'claude-yuki',
};

test('a conflicted merge is a medium merge conflict naming both sessions, researchers, paths and what to do', () => {
  const c = mergeConflict({ a: yuki, b: elena, paths: ['src/shared.py', 'src/a.py', 'src/shared.py'] });
  assert.is(c.kind, 'merge');
  assert.is(c.severity, 'medium');
  assert.equal(c.paths, ['src/a.py', 'src/shared.py']);
  assert.equal(c.sessions, [yuki.session, elena.session]);
  assert.equal(c.researchers, ['yuki-tanaka', 'elena-vasquez']);
  assert.match(c.message, 'src/a.py, src/shared.py');
  assert.match(c.message, `yuki-tanaka (session ${yuki.session}, branch claude-yuki)`);
  assert.match(c.message, `elena-vasquez (session ${elena.session}, branch claude-elena)`);
  assert.match(c.message, /Agree who merges first/);
  assert.match(c.message, 'git merge-tree --write-tree claude-yuki origin/claude-elena');
});

test('work with no session (a plain push) is named by researcher and branch; ids list only sessions', () => {
  const c = mergeConflict({
    a: { session: null, researcher: 'aria-blackwood', branch: 'fix', ref: 'fix' },
    b: elena,
    paths: ['x'],
  });
  assert.equal(c.sessions, [elena.session]);
  assert.equal(c.researchers, ['aria-blackwood', 'elena-vasquez']);
  assert.match(c.message, 'aria-blackwood (branch fix, no session)');
});

test('two sessions of one researcher name the researcher once; clean merges are no conflict', () => {
  const other = { ...elena, session: '20261125-090002000-cccccc', branch: 'claude-elena-2' };
  const conflicts = mergeConflicts([
    { a: elena, b: other, paths: ['x'] },
    { a: elena, b: yuki, paths: [] },
  ]);
  assert.is(conflicts.length, 1);
  assert.equal(conflicts[0]!.researchers, ['elena-vasquez']);
});

const tree = 'a'.repeat(40);

test('merge-tree --stdin output: 1 is clean, 0 conflicted with its paths, NUL-delimited', () => {
  const out = `0\0${tree}\0src/shared.py\0src/b.py\0\0` + `1\0${tree}\0\0` + `0\0${tree}\0weird\nname\0\0`;
  assert.equal(parseMergeTreeBatch(out), [
    { status: 'conflict', paths: ['src/b.py', 'src/shared.py'] },
    { status: 'clean' },
    { status: 'conflict', paths: ['weird\nname'] },
  ]);
});

test('a batch cut short by git keeps only the complete results', () => {
  assert.equal(parseMergeTreeBatch(`1\0${tree}\0\0` + `0\0${tree}\0src/x`), [{ status: 'clean' }]);
  assert.equal(parseMergeTreeBatch(''), []);
  assert.equal(parseMergeTreeBatch('fatal: not something we can merge\n'), []);
});

test.run();
