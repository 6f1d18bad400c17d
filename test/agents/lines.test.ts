import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClaudeCode, editTool, everything } from '../helpers/claude-code.js';
import { consortium, json, must, SAMPLE_FILES } from '../helpers/sandbox.js';

/**
 * The line check as a real agent meets it (SPEC section 7, policy.lines): yuki's live session
 * changed lines of a file and pushed its branch; elena's Claude Code conversation starts (its
 * SessionStart brings yuki's record, branch and changed lines), and its model tries to edit
 * those lines. The first attempt is denied with the warning, before anything is written; the
 * same edit again goes through; an edit ten lines away goes through at once.
 */
const FILE = 'src/model.py';
const original = Array.from({ length: 60 }, (_, i) => `value_${i + 1} = ${i + 1}`);
const { m, cleanup } = consortium(['elena', 'yuki'], {
  ...SAMPLE_FILES,
  [FILE]: `${original.join('\n')}\n`,
});
const { elena, yuki } = m;
const cc = new ClaudeCode();

test.before(async () => {
  await cc.start();
  // One researcher sets the repository up for Claude Code and commits it; the others pull and
  // run init in their own clones, as the README says.
  cc.setUp(elena, [yuki]);
  must(elena.git(['config', 'consortium.researcher', 'elena-vasquez']));
});
test.after(async () => {
  await cc.close();
  cleanup();
});

test('an agent about to edit lines another live session changed is told first; ten lines away it is not', async () => {
  const y = json(yuki, ['start', '-r', 'yuki-tanaka', '--intent', 'tune the model']);
  const lines = readFileSync(path.join(yuki.dir, FILE), 'utf8').split('\n');
  lines[19] = 'value_20 = 200  # yuki';
  lines[20] = 'value_21 = 210  # yuki';
  lines[21] = 'value_22 = 220  # yuki';
  writeFileSync(path.join(yuki.dir, FILE), lines.join('\n'));
  yuki.commit('Tune values 20-22');
  must(yuki.git(['push', '-q', '-u', 'origin', 'HEAD']));

  const file = path.join(elena.dir, FILE);
  const near = editTool(file, 'value_21 = 21\n', 'value_21 = 21.5\n');
  const run = await cc.run(elena, {
    prompt: 'Tune value 21, then value 31.',
    steps: [
      { tools: [{ name: 'Read', input: { file_path: file } }] },
      { tools: [near] },
      { tools: [near] },
      { tools: [editTool(file, 'value_31 = 31\n', 'value_31 = 31.5\n')] },
      { text: 'Done.' },
    ],
  });
  assert.is(run.code, 0, everything(run));
  const [read, first, again, far] = cc.api.toolResults();
  assert.not.ok(read?.is_error, read?.content);
  assert.ok(first?.is_error, `the first attempt was denied: ${first?.content}`);
  const told = first!.content;
  assert.match(told, `yuki-tanaka's live session ${y.id}`);
  assert.match(told, `branch ${y.branch}`);
  assert.match(told, 'changed lines 20-22, which now read "value_20 = 200  # yuki"');
  assert.match(told, 'Your edit of src/model.py changes line 21');
  assert.match(told, 'nothing was changed yet');
  assert.not.ok(again?.is_error, `the same edit again went through: ${again?.content}`);
  assert.not.ok(far?.is_error, `ten lines away is not flagged: ${far?.content}`);
  const now = readFileSync(file, 'utf8');
  assert.match(now, 'value_21 = 21.5\n');
  assert.match(now, 'value_31 = 31.5\n');
});

test.run();
