import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { consortium, json, must } from '../helpers/sandbox.js';

/**
 * post-merge through real `git merge` and `git pull`: the note on the merge result, sessions
 * marked merged, and the alert when a pull brings a protocol change to a file my session
 * has changed too.
 */
const { m, cleanup } = consortium(['elena', 'yuki']);
const { elena, yuki } = m;
test.after(cleanup);

const lines = (changed: Record<number, string>) =>
  `# Protocol\n\n${Array.from({ length: 10 }, (_, i) => changed[i + 3] ?? `line ${i + 3}`).join('\n')}\n`;
const ELENA = 'claude-elena-vasquez-20261125-090000';
const YUKI = 'claude-yuki-tanaka-20261125-090100';
const notesOn = (machine: typeof elena, rev: string) =>
  must(machine.git(['notes', '--ref=consortium', 'show', rev]))
    .stdout.split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));

// Setup (it asserts nothing of its own: a failure here stops the file).
test.before(() => {
  must(elena.gc(['init']));
  must(yuki.gc(['init']));
});

test("merging a session's branch into the default branch notes the merge and marks the session merged", () => {
  must(elena.git(['checkout', '-q', '-b', ELENA]));
  elena.commit('Protocol: stricter statistics', { 'protocol/spec.md': lines({ 3: 'ELENA' }) });
  must(elena.git(['push', '-q', '-u', 'origin', 'HEAD']));
  must(elena.git(['checkout', '-q', 'main']));
  const r = elena.git(['merge', '--no-ff', '-m', 'Merge statistics', ELENA]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /merged into main/);
  const [note] = notesOn(elena, 'HEAD').filter((n) => n.type === 'merge');
  assert.ok(note);
  assert.equal(note.protocolFiles, ['protocol/spec.md']);
  assert.not.match(r.stderr, /ALERT/, 'merging my own work back is nothing to be alerted about');
  assert.equal(
    note.sessions.map((x: any) => x.branch),
    [ELENA],
    'the note names the session whose work came in',
  );
  const session = json(elena, ['status', '--all']).sessions.find((s: any) => s.branch === ELENA);
  assert.equal(
    note.sessions.map((s: any) => s.id),
    [session.id],
  );
  assert.is(session.state, 'merged');
  assert.is(json(elena, ['status']).sessions.length, 0, 'a merged session is not active');
  must(elena.git(['push', '-q', 'origin', 'main']));
});

test('pulling a change of a protocol file that my session also changed prints an alert naming the file, and the merge result has a note', () => {
  must(yuki.git(['checkout', '-q', '-b', YUKI]));
  yuki.commit('Protocol: latency budget', { 'protocol/spec.md': lines({ 12: 'YUKI' }) });
  const r = yuki.git(['pull', '--no-rebase', '--no-edit', 'origin', 'main']);
  assert.is(r.code, 0, r.stderr);
  const alert = r.stderr.split('\n').find((l) => /ALERT/.test(l));
  assert.ok(alert, r.stderr);
  assert.match(alert!, /protocol\/spec\.md/);
  assert.match(alert!, /git diff/);
  const [note] = notesOn(yuki, 'HEAD').filter((n) => n.type === 'merge');
  assert.ok(note);
  assert.is(note.by, 'yuki-tanaka');
  assert.equal(note.protocolFiles, ['protocol/spec.md']);
  assert.match(must(yuki.git(['log', '--notes=consortium', '-1'])).stdout, /"type":"merge"/);
  // Yuki's session is not merged: its work is not in main.
  assert.is(json(yuki, ['status']).sessions.length, 1);
});

test('a pull that brings no protocol change to my files prints no alert', () => {
  must(elena.git(['checkout', '-q', 'main']));
  elena.commit('Shared code', { 'src/shared.py': 'print(1)\n' });
  must(elena.git(['push', '-q', 'origin', 'main']));
  const r = yuki.git(['pull', '--no-rebase', '--no-edit', 'origin', 'main']);
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stderr, /ALERT/);
});

test('pulling the default branch into a fresh session does not make it merged', () => {
  must(yuki.git(['checkout', '-q', 'main']));
  const fresh = json(yuki, ['start', '-r', 'yuki-tanaka', '--intent', 'fresh work']);
  must(elena.git(['push', '-q', 'origin', 'main']));
  const pulled = yuki.git(['pull', '-q', '--no-rebase', 'origin', 'main']);
  assert.is(pulled.code, 0, pulled.stderr);
  assert.not.match(pulled.stderr, /merged into/);
  const session = json(yuki, ['status']).sessions.find((s: any) => s.id === fresh.id);
  assert.is(session?.state, 'active', 'it has no work of its own yet: still active');
  must(yuki.gc(['end']));
});

test.run();
