import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { editedSpans } from '../../src/analysis/edit-lines.js';
import { diffLines, type Hunk, splitLines } from '../../src/analysis/line-diff.js';
import {
  linesBetween,
  mergeSpans,
  replacedSpans,
  spanAfter,
  spanBefore,
  spanPair,
} from '../../src/analysis/lines.js';
import { type FileChange, parseDiffTree } from '../../src/git/hunks.js';

/**
 * The line check's pure parts, tested as a diff algorithm is: the hunks rebuild the new text
 * and are as few as an edit script can be; lines map back and forth through them; spans meet
 * as git's merge says changes conflict (touching counts); and the lines an editing tool will
 * replace are told from its input.
 */

/** Applies hunks to `a`: what a correct diff must give back is `b`. */
function apply(a: string[], b: string[], hunks: Hunk[]): string[] {
  const out: string[] = [];
  let i = 0;
  for (const h of hunks) {
    while (i < h.old.first - 1) out.push(a[i++]!);
    out.push(...b.slice(h.new.first - 1, h.new.first - 1 + h.new.count));
    i += h.old.count;
  }
  while (i < a.length) out.push(a[i++]!);
  return out;
}

/** The length of a longest common subsequence, by the textbook table. */
function lcs(a: string[], b: string[]): number {
  const t = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      t[i]![j] = a[i - 1] === b[j - 1] ? t[i - 1]![j - 1]! + 1 : Math.max(t[i - 1]![j]!, t[i]![j - 1]!);
  return t[a.length]![b.length]!;
}

/** A small deterministic random source, so a failure can be replayed. */
function random(seed: number) {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

test('diffLines: the hunks rebuild the new text, and keep a longest common subsequence', () => {
  const next = random(7);
  const text = () => Array.from({ length: Math.floor(next() * 14) }, () => 'abcd'[Math.floor(next() * 4)]!);
  for (let run = 0; run < 3000; run++) {
    const a = text();
    const b = text();
    const hunks = diffLines(a, b);
    assert.equal(apply(a, b, hunks), b, `${a} -> ${b}`);
    const kept = a.length - hunks.reduce((n, h) => n + h.old.count, 0);
    assert.is(kept, lcs(a, b), `${a} -> ${b}: a shortest edit script`);
    for (const h of hunks) assert.ok(h.old.count + h.new.count > 0, 'no empty hunk');
  }
});

test('splitLines reads lines as git does: a final newline ends a line, CRLF is LF', () => {
  assert.equal(splitLines(''), []);
  assert.equal(splitLines('a\nb\n'), ['a', 'b']);
  assert.equal(splitLines('a\nb'), ['a', 'b']);
  assert.equal(splitLines('a\r\nb\r\n'), ['a', 'b']);
  assert.equal(diffLines(splitLines('x\ny\n'), splitLines('x\r\ny\r\n')), []);
});

test('linesBetween: overlapping is -1, touching 0 (git conflicts then too), else the lines between', () => {
  assert.is(linesBetween({ first: 5, count: 2 }, { first: 6, count: 3 }), -1);
  assert.is(linesBetween({ first: 5, count: 1 }, { first: 6, count: 1 }), 0);
  assert.is(linesBetween({ first: 5, count: 1 }, { first: 9, count: 1 }), 3);
  assert.is(linesBetween({ first: 9, count: 1 }, { first: 5, count: 1 }), 3);
  // An insertion after line 4 (the place before line 5) touches lines 4 and 5, and itself.
  const insertion = { first: 5, count: 0 };
  assert.is(linesBetween(insertion, { first: 5, count: 1 }), 0);
  assert.is(linesBetween(insertion, { first: 4, count: 1 }), 0);
  assert.is(linesBetween(insertion, insertion), 0);
  assert.is(linesBetween(insertion, { first: 8, count: 1 }), 3);
});

test('spanBefore and spanAfter carry lines through the hunks of my own changes', () => {
  const base = splitLines('a\nb\nc\nd\ne\n');
  const now = splitLines('new\na\nb\nC\nd\ne\n'); // a line added on top, c changed
  const hunks = diffLines(base, now);
  assert.equal(spanBefore({ first: 6, count: 1 }, hunks), { first: 5, count: 1 }, 'e moved down by one');
  assert.equal(spanBefore({ first: 4, count: 1 }, hunks), { first: 3, count: 1 }, 'C stands for c');
  assert.equal(spanBefore({ first: 1, count: 1 }, hunks), { first: 1, count: 0 }, 'a line of mine: a place');
  assert.equal(spanAfter({ first: 4, count: 2 }, hunks), { first: 5, count: 2 }, 'd and e as numbered now');
  assert.equal(spanBefore({ first: 3, count: 3 }, hunks), { first: 2, count: 3 });
  // With no change of mine, lines are where they were.
  assert.equal(spanBefore({ first: 3, count: 2 }, []), { first: 3, count: 2 });
});

test('replacedSpans: the lines an edit replaces, as few as the texts allow', () => {
  assert.equal(replacedSpans('a\nb\nc\n', 'a\nB\nc\n'), [{ first: 2, count: 1 }]);
  assert.equal(replacedSpans('a\nb\nc\n', 'a\nb\nx\nc\n'), [{ first: 3, count: 0 }]);
  assert.equal(replacedSpans('a\nb\nc\n', 'a\nb\nc\n'), []);
  assert.equal(
    mergeSpans([
      { first: 5, count: 2 },
      { first: 1, count: 1 },
      { first: 7, count: 1 },
    ]),
    [
      { first: 1, count: 1 },
      { first: 5, count: 3 },
    ],
  );
  assert.equal(spanPair({ first: 4, count: 3 }), [4, 6]);
  assert.equal(spanPair({ first: 4, count: 0 }), [3, 4]);
});

test('editedSpans: Edit, MultiEdit, Write and NotebookEdit from their input', () => {
  const text = 'one\ntwo\nthree\nfour\n';
  assert.equal(editedSpans('Edit', { old_string: 'two\nthree', new_string: 'TWO\nthree' }, text), [
    { first: 2, count: 1 },
  ]);
  assert.is(editedSpans('Edit', { old_string: 'missing', new_string: 'x' }, text), undefined);
  assert.equal(
    editedSpans(
      'MultiEdit',
      {
        edits: [
          { old_string: 'one', new_string: 'ONE' },
          { old_string: 'ONE\ntwo', new_string: 'ONE\n2' },
        ],
      },
      text,
    ),
    [{ first: 1, count: 2 }],
  );
  assert.equal(editedSpans('Write', { content: 'one\ntwo\nthree\nfour\nfive\n' }, text), [
    { first: 5, count: 0 },
  ]);
  assert.equal(editedSpans('Write', { content: 'new\n' }, undefined), [{ first: 1, count: 0 }]);
  const notebook = [
    '{',
    ' "cells": [',
    '  {',
    '   "cell_type": "code",',
    '   "id": "aa11",',
    '   "source": ["x = 1"]',
    '  },',
    '  {',
    '   "cell_type": "code",',
    '   "id": "bb22",',
    '   "source": ["y = 2"]',
    '  }',
    ' ]',
    '}',
  ].join('\n');
  assert.equal(editedSpans('NotebookEdit', { cell_id: 'bb22', new_source: 'y = 3' }, notebook), [
    { first: 8, count: 5 },
  ]);
  assert.equal(editedSpans('NotebookEdit', { cell_id: 'aa11', edit_mode: 'insert' }, notebook), [
    { first: 8, count: 0 },
  ]);
  assert.equal(editedSpans('NotebookEdit', { cell_id: 'zz', new_source: '' }, notebook), [
    { first: 1, count: 14 },
  ]);
});

test('parseDiffTree reads raw entries and hunks of several pairs, renames and odd paths included', () => {
  const tip = 'c'.repeat(40);
  const other = 'd'.repeat(40);
  const blob = (ch: string) => ch.repeat(40);
  const out =
    `${tip}\0:100644 100644 ${blob('1')} ${blob('2')} M\0src/a.py\0:100644 100644 ${blob('3')} ${blob('4')} R090\0old name.py\0new "name".py\0\0` +
    `diff --git a/src/a.py b/src/a.py\nindex 1..2 100644\n--- a/src/a.py\n+++ b/src/a.py\n@@ -3,2 +3 @@\n-x\n-y\n+z\n@@ -9,0 +9,2 @@\n+p\n+q\n` +
    `diff --git "a/old name.py" "b/new \\"name\\".py"\nsimilarity index 90%\nrename from old name.py\nrename to new "name".py\n@@ -1 +1 @@\n-k\n+K\n` +
    `${other}\0:100644 000000 ${blob('5')} ${'0'.repeat(40)} D\0gone.txt\0\0diff --git a/gone.txt b/gone.txt\ndeleted file mode 100644\n@@ -1,2 +0,0 @@\n-1\n-2\n`;
  const found = new Map<string, FileChange[]>([
    [tip, []],
    [other, []],
  ]);
  parseDiffTree(out, found);
  const [a, renamed] = found.get(tip)!;
  assert.equal(a!.hunks, [
    { old: { first: 3, count: 2 }, new: { first: 3, count: 1 }, excerpt: ['z'] },
    { old: { first: 10, count: 0 }, new: { first: 9, count: 2 }, excerpt: ['p', 'q'] },
  ]);
  assert.is(renamed!.status, 'renamed');
  assert.is(renamed!.from, 'old name.py');
  assert.is(renamed!.path, 'new "name".py');
  assert.is(renamed!.oldBlob, blob('3'));
  assert.equal(renamed!.hunks[0]!.excerpt, ['K']);
  const [gone] = found.get(other)!;
  assert.is(gone!.status, 'deleted');
  assert.equal(gone!.hunks[0]!.old, { first: 1, count: 2 });
});

test('parseDiffTree: a type change (a file becoming a symlink) has two sections and no lines; the next file keeps its own', () => {
  const tip = 'e'.repeat(40);
  const out =
    `${tip}\0:100644 120000 ${'1'.repeat(40)} ${'2'.repeat(40)} T\0a.txt\0:100644 100644 ${'3'.repeat(40)} ${'4'.repeat(40)} M\0b.txt\0\0` +
    'diff --git a/a.txt b/a.txt\ndeleted file mode 100644\n@@ -1 +0,0 @@\n-x\n' +
    'diff --git a/a.txt b/a.txt\nnew file mode 120000\n@@ -0,0 +1 @@\n+target\n\\ No newline at end of file\n' +
    'diff --git a/b.txt b/b.txt\n@@ -2 +2 @@\n-old\n+new\n';
  const found = new Map<string, FileChange[]>([[tip, []]]);
  parseDiffTree(out, found);
  const [a, b] = found.get(tip)!;
  assert.is(a!.binary, true);
  assert.equal(a!.hunks, []);
  assert.equal(b!.hunks, [{ old: { first: 2, count: 1 }, new: { first: 2, count: 1 }, excerpt: ['new'] }]);
});

test.run();
