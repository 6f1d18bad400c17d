import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { consortium, json, type Machine, must, type Result, SAMPLE_FILES } from '../helpers/sandbox.js';

/**
 * The line check (SPEC section 7, policy.lines): another live session's changed lines, known
 * here after a coordination fetch, meet an edit before it lands (Claude Code's PreToolUse, the
 * MCP may_edit tool) and my working tree in `check --lines`; the gate's merge conflicts name
 * the lines. Real clones of one bare remote, one per researcher; yuki's work reaches elena only
 * through the remote.
 */
const FILE = 'src/model.py';
const LINES = 60;
const original = Array.from({ length: LINES }, (_, i) => `value_${i + 1} = ${i + 1}`);
const OTHER = Array.from({ length: 12 }, (_, i) => `other_${i + 1} = ${i + 1}`);
const { world, m, cleanup } = consortium(['elena', 'yuki'], {
  ...SAMPLE_FILES,
  [FILE]: `${original.join('\n')}\n`,
  'src/other.py': `${OTHER.join('\n')}\n`,
});
const { elena, yuki } = m;
test.after(cleanup);

const CONV = '8a4e7f10-2b3c-4d5e-8f90-a1b2c3d4e5f6';

/** Sets lines (1-based) of a file in a machine's worktree. */
function setLines(machine: Machine, file: string, changes: Record<number, string>) {
  const full = path.join(machine.dir, file);
  const lines = readFileSync(full, 'utf8').split('\n');
  for (const [n, text] of Object.entries(changes)) lines[Number(n) - 1] = text;
  writeFileSync(full, lines.join('\n'));
}

/** Claude Code's PreToolUse for an Edit of `file` in elena's clone, as Claude Code sends it. */
function preEdit(
  machine: Machine,
  file: string,
  from: string,
  to: string,
  env: NodeJS.ProcessEnv = {},
): Result {
  return machine.gc(['claude-hook', 'PreToolUse'], {
    env,
    input: JSON.stringify({
      session_id: CONV,
      transcript_path: path.join(world.root, 'transcript.jsonl'),
      cwd: machine.dir,
      permission_mode: 'default',
      hook_event_name: 'PreToolUse',
      tool_name: 'Edit',
      tool_input: { file_path: path.join(machine.dir, file), old_string: from, new_string: to },
      tool_use_id: 'toolu_1',
    }),
  });
}

const decision = (r: Result) => {
  assert.is(r.code, 0, r.stderr);
  const out = r.stdout.trim() ? JSON.parse(r.stdout) : {};
  return out.hookSpecificOutput ?? {};
};

let y: any;
let e: any;

test('setup: yuki changes lines 20-22 of the model on a pushed session branch; elena syncs', () => {
  y = json(yuki, ['start', '-r', 'yuki-tanaka', '--intent', 'tune the model']);
  setLines(yuki, FILE, { 20: 'value_20 = 200  # yuki', 21: 'value_21 = 210  # yuki', 22: 'value_22 = 220' });
  yuki.commit('Tune values 20-22');
  must(yuki.git(['push', '-q', '-u', 'origin', 'HEAD']));
  must(yuki.gc(['heartbeat', '--session', y.id]));
  must(yuki.gc(['share', `refs/consortium/sessions/${y.id}`]));
  e = json(elena, ['start', '-r', 'elena-vasquez', '--intent', 'refactor the model']);
  must(elena.gc(['sync']));
});

test('an edit of a line yuki changed is denied first, naming the session, the lines and what they read', () => {
  const first = decision(preEdit(elena, FILE, 'value_21 = 21\n', 'value_21 = 21.5\n'));
  assert.is(first.permissionDecision, 'deny', JSON.stringify(first));
  const reason: string = first.permissionDecisionReason;
  assert.match(reason, y.id);
  assert.match(reason, 'yuki-tanaka');
  assert.match(reason, y.branch);
  assert.match(reason, 'lines 20-22');
  assert.match(reason, 'value_21 = 210  # yuki');
  assert.match(reason, 'Your edit of src/model.py changes line 21');
  assert.match(reason, 'make the same edit again');
  assert.match(reason, 'git consortium lease acquire :/src/model.py');
  // The same edit again goes through: a warning, not a refusal.
  const again = decision(preEdit(elena, FILE, 'value_21 = 21\n', 'value_21 = 21.5\n'));
  assert.is.not(again.permissionDecision, 'deny', JSON.stringify(again));
});

test('another edit of the same lines is warned again: the retry lets through only the edit that was warned', () => {
  const other = decision(preEdit(elena, FILE, 'value_21 = 21\n', 'value_21 = 99\n'));
  assert.is(other.permissionDecision, 'deny', JSON.stringify(other));
});

test('a line index that does not read costs no crash, and the next sync rebuilds it', () => {
  const dir = path.join(elena.dir, '.git', 'consortium', 'lines');
  const shards = readdirSync(dir).filter((f) => /^[0-9a-f]{8}\.json$/.test(f));
  assert.ok(shards.length > 0);
  const kept = shards.map((f) => [f, readFileSync(path.join(dir, f), 'utf8')] as const);
  for (const [f] of kept)
    writeFileSync(
      path.join(dir, f),
      JSON.stringify({ format: 1, files: { [FILE]: [{ hunks: 5 }] }, blobs: { x: 1 } }),
    );
  const r = preEdit(elena, FILE, 'value_20 = 20\n', 'value_20 = 0\n');
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr, '');
  must(elena.gc(['sync']));
  const again = decision(preEdit(elena, FILE, 'value_20 = 20\n', 'value_20 = 0\n'));
  assert.is(again.permissionDecision, 'deny', 'indexed again');
});

test('lines within 3 of the change warn; an edit ten lines away does not', () => {
  const near = decision(preEdit(elena, FILE, 'value_25 = 25\n', 'value_25 = 25.5\n'));
  assert.is(near.permissionDecision, 'deny', 'line 25 is 3 lines below 22');
  const far = decision(preEdit(elena, FILE, 'value_32 = 32\n', 'value_32 = 32.5\n'));
  assert.is(far.permissionDecision, undefined, JSON.stringify(far));
  const above = decision(preEdit(elena, FILE, 'value_10 = 10\n', 'value_10 = 10.5\n'));
  assert.is(above.permissionDecision, undefined, JSON.stringify(above));
});

test('a Bash command that writes the file is warned as a whole-file edit, once', () => {
  const bash = (command: string) =>
    decision(
      elena.gc(['claude-hook', 'PreToolUse'], {
        input: JSON.stringify({
          session_id: CONV,
          transcript_path: path.join(world.root, 'transcript.jsonl'),
          cwd: elena.dir,
          hook_event_name: 'PreToolUse',
          tool_name: 'Bash',
          tool_input: { command },
        }),
      }),
    );
  const first = bash("sed -i 's/value_40 = 40/value_40 = 41/' src/model.py");
  assert.is(first.permissionDecision, 'deny', JSON.stringify(first));
  assert.match(first.permissionDecisionReason, 'this command writes src/model.py');
  assert.match(first.permissionDecisionReason, 'lines 20-22');
  assert.match(first.permissionDecisionReason, 'run the same command again');
  assert.is(bash("sed -i 's/value_40 = 40/value_40 = 41/' src/model.py").permissionDecision, undefined);
  assert.is(
    bash("sed -i 's/a/b/' src/shared.py").permissionDecision,
    undefined,
    'a file nobody else changed',
  );
});

test('my own uncommitted edits above move the lines: the check follows them back to the merge base', () => {
  // Ten new lines at the top: yuki's lines 20-22 are now lines 30-32 of elena's file.
  const full = path.join(elena.dir, FILE);
  const before = readFileSync(full, 'utf8');
  writeFileSync(full, `${Array.from({ length: 10 }, (_, i) => `# note ${i}`).join('\n')}\n${before}`);
  try {
    const moved = decision(preEdit(elena, FILE, 'value_22 = 22\n', 'value_22 = 22.5\n'));
    assert.is(moved.permissionDecision, 'deny');
    assert.match(moved.permissionDecisionReason, 'changes line 32');
    assert.match(moved.permissionDecisionReason, 'lines 30-32');
    const old = decision(preEdit(elena, FILE, 'value_12 = 12\n', 'value_12 = 12.5\n'));
    assert.is(old.permissionDecision, undefined, 'old line 12 is line 22 now, far from the change');
  } finally {
    writeFileSync(full, before);
  }
});

test('reading the index for one file starts no git', () => {
  const log = path.join(world.root, 'git-calls.log');
  const shim = path.join(world.root, 'shim');
  rmSync(log, { force: true });
  const realGit = must(elena.git(['--exec-path'])).stdout.trim();
  const dir = shim;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'git'),
    `#!/bin/sh\necho "$@" >> ${JSON.stringify(log)}\nexec ${JSON.stringify(path.join(realGit, 'git'))} "$@"\n`,
  );
  chmodSync(path.join(dir, 'git'), 0o755);
  const env = { PATH: `${dir}${path.delimiter}${elena.env().PATH}` };
  const r = elena.gc(['claude-hook', 'PreToolUse'], {
    env,
    input: JSON.stringify({
      session_id: CONV,
      transcript_path: path.join(world.root, 'transcript.jsonl'),
      cwd: elena.dir,
      hook_event_name: 'PreToolUse',
      tool_name: 'Edit',
      tool_input: { file_path: path.join(elena.dir, FILE), old_string: 'value_40 = 40\n', new_string: 'x\n' },
    }),
  });
  assert.is(r.code, 0, r.stderr);
  // The shim logs the `git consortium` that starts the hook itself, and nothing after it.
  const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  assert.equal(
    calls.filter((c) => !c.startsWith('consortium ')),
    [],
  );
});

test('check --lines shows my changed lines next to theirs, and exits 1', () => {
  setLines(elena, FILE, { 21: 'value_21 = 21.5  # elena' });
  const r = elena.gc(['check', '--lines']);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stdout, `src/model.py: you changed line 21. yuki-tanaka's live session ${y.id}`);
  assert.match(r.stdout, 'value_21 = 21.5  # elena');
  assert.match(r.stdout, 'value_21 = 210  # yuki');
  const out = JSON.parse(elena.gc(['check', '--lines', '--json']).stdout);
  assert.is(out.lines.length, 1);
  assert.equal(out.lines[0].mine, [[21, 21]]);
  assert.equal(out.lines[0].theirs, [[20, 22]]);
  assert.is(out.lines[0].session, y.id);
  // A path limits the look; a folder with nothing of theirs says so.
  const none = elena.gc(['check', '--lines', 'consortium/']);
  assert.is(none.code, 0, none.stdout);
  assert.match(none.stdout, 'None of the lines you changed under consortium');
  must(elena.git(['checkout', '--', FILE]));
  const clean = elena.gc(['check', '--lines']);
  assert.is(clean.code, 0, clean.stdout);
});

test('the pushed merge conflict names the lines: check --json carries lines per path', () => {
  setLines(elena, FILE, { 21: 'value_21 = 21.5  # elena' });
  elena.commit('Refine value 21');
  const out = JSON.parse(elena.gc(['check', '--json']).stdout);
  const merge = out.conflicts.find((c: any) => c.kind === 'merge');
  assert.ok(merge, JSON.stringify(out.conflicts));
  assert.equal(merge.lines, { [FILE]: [[20, 22]] });
  assert.match(merge.message, 'src/model.py (lines 20-22)');
  must(elena.git(['reset', '-q', '--hard', 'HEAD~1']));
});

test('the MCP may_edit tool, given lines, warns the same way; lines ten away are free', async () => {
  const client = new Client({ name: 'test', version: '1.0.0' });
  const transport = new StdioClientTransport({
    command: 'git',
    args: ['consortium', 'mcp', 'serve'],
    cwd: elena.dir,
    env: elena.env({ CONSORTIUM_SESSION: e.id }) as Record<string, string>,
  });
  await client.connect(transport);
  try {
    const call = async (args: Record<string, unknown>) => {
      const result = (await client.callTool({ name: 'may_edit', arguments: args })) as any;
      return { error: !!result.isError, text: result.content[0].text as string };
    };
    const near = JSON.parse((await call({ path: FILE, lines: [21, 21] })).text);
    assert.is(near.decision, 'warn', JSON.stringify(near));
    const reason = near.reasons.find((r: any) => r.kind === 'lines');
    assert.equal(reason.lines[0].theirs, [[20, 22]]);
    assert.equal(reason.researchers, ['yuki-tanaka']);
    assert.match(reason.message, 'the lease_acquire tool');
    const far = JSON.parse((await call({ path: FILE, lines: [33, 35] })).text);
    assert.is(far.decision, 'allow', JSON.stringify(far));
    const wrong = await call({ path: FILE, lines: [5, 2] });
    assert.is(wrong.error, true);
    assert.match(wrong.text, 'lines must be [first, last]');
  } finally {
    await client.close();
  }
});

test('policy.lines block makes the warning a refusal, every time', () => {
  const config = path.join(elena.dir, 'consortium.config.yaml');
  const before = readFileSync(config, 'utf8');
  assert.not.match(before, /^policy:/m);
  writeFileSync(config, `${before}policy:\n  lines: block\n`);
  try {
    for (let i = 0; i < 2; i++) {
      const r = decision(preEdit(elena, FILE, 'value_20 = 20\n', 'value_20 = 20.5\n'));
      assert.is(r.permissionDecision, 'deny');
      assert.not.match(r.permissionDecisionReason, 'make the same edit again');
    }
  } finally {
    writeFileSync(config, before);
  }
});

test('policy.lines off: no warning at the edit, and check --lines says the check is off', () => {
  const config = path.join(elena.dir, 'consortium.config.yaml');
  const before = readFileSync(config, 'utf8');
  writeFileSync(config, `${before}policy:\n  lines: off\n`);
  try {
    const r = decision(preEdit(elena, FILE, 'value_21 = 21\n', 'value_21 = 7\n'));
    assert.is(r.permissionDecision, undefined, JSON.stringify(r));
    const check = elena.gc(['check', '--lines']);
    assert.is(check.code, 0, check.stderr);
    assert.match(
      check.stdout,
      'The line check is off in this consortium (policy.lines: off in consortium.config.yaml)',
    );
  } finally {
    writeFileSync(config, before);
  }
});

test('a rebased tip is indexed again: the old lines no longer warn, the new ones do', () => {
  must(yuki.git(['reset', '-q', '--hard', 'HEAD~1']));
  setLines(yuki, FILE, { 50: 'value_50 = 500  # yuki, rebased' });
  yuki.commit('Tune value 50 instead');
  must(yuki.git(['push', '-q', '--force', 'origin', 'HEAD'], { env: { CONSORTIUM_OVERRIDE: '' } }));
  must(yuki.gc(['heartbeat', '--session', y.id]));
  must(yuki.gc(['share', `refs/consortium/sessions/${y.id}`]));
  must(elena.gc(['sync']));
  const old = decision(preEdit(elena, FILE, 'value_21 = 21\n', 'value_21 = 0\n'));
  assert.is(old.permissionDecision, undefined, JSON.stringify(old));
  const now = decision(preEdit(elena, FILE, 'value_50 = 50\n', 'value_50 = 0\n'));
  assert.is(now.permissionDecision, 'deny');
  assert.match(now.permissionDecisionReason, 'line 50');
});

test('a rename follows the file; a deletion says so', () => {
  must(yuki.git(['mv', 'src/other.py', 'src/renamed.py']));
  setLines(yuki, 'src/renamed.py', { 6: 'other_6 = 60  # yuki' });
  yuki.git(['rm', '-q', 'TCP_SPECIFICATION.md']);
  yuki.commit('Rename other.py and change b; drop the specification');
  must(yuki.git(['push', '-q', 'origin', 'HEAD']));
  must(yuki.gc(['heartbeat', '--session', y.id]));
  must(yuki.gc(['share', `refs/consortium/sessions/${y.id}`]));
  must(elena.gc(['sync']));
  const renamed = decision(preEdit(elena, 'src/other.py', 'other_7 = 7\n', 'other_7 = 70\n'));
  assert.is(renamed.permissionDecision, 'deny', JSON.stringify(renamed));
  assert.match(
    renamed.permissionDecisionReason,
    'moves the file to src/renamed.py',
    renamed.permissionDecisionReason,
  );
  const deleted = decision(preEdit(elena, 'TCP_SPECIFICATION.md', 'line 3', 'line three'));
  assert.is(deleted.permissionDecision, 'deny', JSON.stringify(deleted));
  assert.match(deleted.permissionDecisionReason, 'deletes TCP_SPECIFICATION.md');
});

test('whitespace-only changes count, as they do for git merge; line endings of the worktree do not', () => {
  setLines(yuki, FILE, { 5: 'value_5  = 5' });
  yuki.commit('Align value 5');
  must(yuki.git(['push', '-q', 'origin', 'HEAD']));
  must(yuki.gc(['heartbeat', '--session', y.id]));
  must(yuki.gc(['share', `refs/consortium/sessions/${y.id}`]));
  must(elena.gc(['sync']));
  const ws = decision(preEdit(elena, FILE, 'value_5 = 5\n', 'value_5 = 5.5\n'));
  assert.is(ws.permissionDecision, 'deny', 'a whitespace change conflicts in a merge too');
  // elena's worktree with CRLF line endings: no line reads as changed because of them.
  const full = path.join(elena.dir, FILE);
  const before = readFileSync(full, 'utf8');
  writeFileSync(full, before.replace(/\n/g, '\r\n'));
  try {
    const far = decision(preEdit(elena, FILE, 'value_30 = 30\r\n', 'value_30 = 0\r\n'));
    assert.is(far.permissionDecision, undefined, JSON.stringify(far));
    // Claude Code hands the model a CRLF file with LF line ends: its Edit's text is LF.
    const near = decision(preEdit(elena, FILE, 'value_4 = 4\nvalue_5 = 5\n', 'value_4 = 4\nvalue_5 = 50\n'));
    assert.is(near.permissionDecision, 'deny', JSON.stringify(near));
    const shown = elena.gc(['check', '--lines', '--no-fetch']).stdout;
    assert.not.ok(shown.includes('yuki'), shown);
  } finally {
    writeFileSync(full, before);
  }
});

/** Yuki changes one line of the model on her session branch and shares branch and record. */
function publish(line: number) {
  setLines(yuki, FILE, { [line]: `value_${line} = 0  # yuki` });
  yuki.commit(`Change value ${line}`);
  must(yuki.git(['push', '-q', 'origin', 'HEAD']));
  must(yuki.gc(['heartbeat', '--session', y.id]));
  must(yuki.gc(['share', `refs/consortium/sessions/${y.id}`]));
}

/** Elena's PreToolUse answer for an edit of one line of the model that she has not changed. */
const editAt = (line: number) =>
  decision(preEdit(elena, FILE, `value_${line} = ${line}\n`, 'x\n')).permissionDecision;

test("status --fetch and the gate's fetch (check) bring new lines too, not only sync", () => {
  publish(45);
  assert.is(editAt(45), undefined, 'not known yet');
  must(elena.gc(['status', '--fetch']));
  assert.is(editAt(45), 'deny');
  publish(55);
  elena.gc(['check']);
  assert.is(editAt(55), 'deny');
});

test("a push's gate brings new lines too: here, and through its detached recorder as on a researcher's machine", async () => {
  const pushOther = (n: number, env: NodeJS.ProcessEnv = {}) => {
    elena.commit(`Log ${n}`, { 'consortium/elena-vasquez/log.md': `entry ${n}\n` });
    const r = elena.git(['push', '-q', 'origin', 'HEAD'], { env });
    assert.is(r.code, 0, r.stderr);
  };
  must(elena.gc(['init'])); // the hooks, so that git runs the gate
  // Lines at least 4 away from every line yuki changed before.
  publish(30);
  assert.is(editAt(30), undefined, 'not known yet');
  pushOther(1);
  assert.is(editAt(30), 'deny');
  publish(38);
  assert.is(editAt(38), undefined, 'not known yet');
  pushOther(2, { CONSORTIUM_NO_BACKGROUND: '' });
  let answer: string | undefined;
  for (let i = 0; i < 100 && answer !== 'deny'; i++) {
    await new Promise((done) => setTimeout(done, 100));
    answer = editAt(38);
  }
  assert.is(answer, 'deny', 'the detached recorder of the push brought the lines');
});

test('updates racing in real processes leave one whole index, and no lock behind', async () => {
  setLines(yuki, FILE, { 58: 'value_58 = 0  # yuki' });
  yuki.commit('Change value 58');
  must(yuki.git(['push', '-q', 'origin', 'HEAD']));
  must(yuki.gc(['heartbeat', '--session', y.id]));
  must(yuki.gc(['share', `refs/consortium/sessions/${y.id}`]));
  const racers = await Promise.all([
    elena.gcAsync(['share', '--lines']),
    elena.gcAsync(['share', '--lines']),
    elena.gcAsync(['share', '--lines']),
    elena.gcAsync(['status', '--fetch']),
  ]);
  for (const r of racers) assert.is(r.code, 0, r.stderr);
  const dir = path.join(elena.dir, '.git', 'consortium', 'lines');
  assert.not.ok(existsSync(path.join(dir, 'update.lock')), 'the lock was released');
  const manifest = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8'));
  assert.is(manifest.sessions[y.id].tip, must(yuki.git(['rev-parse', 'HEAD'])).stdout.trim());
  assert.is(decision(preEdit(elena, FILE, 'value_58 = 58\n', 'x\n')).permissionDecision, 'deny');
});

test('a session that ends takes its lines with it', () => {
  must(yuki.gc(['end', '--session', y.id]));
  must(elena.gc(['sync']));
  const r = decision(preEdit(elena, FILE, 'value_50 = 50\n', 'value_50 = 0\n'));
  assert.is(r.permissionDecision, undefined, JSON.stringify(r));
});

test.run();
