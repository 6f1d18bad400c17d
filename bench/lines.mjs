// The line check at edit time (SPEC section 7, policy.lines): Claude Code's PreToolUse for an
// Edit, with 50 other live sessions each changing 20 files (1000 file changes in the line
// index), as ratios against `node -e 0` measured in the same run. Also the cost of building
// the index after a coordination fetch (`sync`) from nothing, and of a sync that finds every
// tip already indexed. Run: npm run build && node bench/lines.mjs
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  CLI,
  figure,
  gitCalls,
  interleaved,
  pushBaseline,
  report,
  scratch,
  time,
  writeSessions,
} from './lib.mjs';

const SESSIONS = 50;
const FILES_EACH = 20;
const FILES = 40;
const LINES = 400;
const s = scratch('lines');
const env = { ...s.env, CONSORTIUM_HOST: 'bench-reader' };

// 40 files of 400 lines; session i changes 20 of them (files i .. i+19, wrapping), each at
// lines 10 + 7 * i .. + 1 (so the sessions' changes in one file are 5 lines apart).
const base = Array.from({ length: LINES }, (_, i) => `line ${i + 1} of the file`);
for (let f = 0; f < FILES; f++) writeFileSync(path.join(s.repo, `f${f}.py`), `${base.join('\n')}\n`);
s.git(['add', '-A']);
s.git(['commit', '-qm', 'files']);
s.git(['push', '-q', 'origin', 'main']);
const root = s.git(['rev-parse', 'HEAD']).trim();
const filesOf = (i) => Array.from({ length: FILES_EACH }, (_, k) => `f${(i + k) % FILES}.py`);

let stream = '';
for (let i = 0; i < SESSIONS; i++) {
  let commit = `commit refs/remotes/origin/claude-lines-${i}\ncommitter bench <bench@example.org> ${1700000000 + i} +0000\ndata 9\nsession ${i % 10}\nfrom ${root}\n`;
  for (const file of filesOf(i)) {
    const lines = [...base];
    lines[9 + 7 * i] = `changed by session ${i}`;
    lines[10 + 7 * i] = `and this line too, session ${i}`;
    const content = `${lines.join('\n')}\n`;
    commit += `M 100644 inline ${file}\ndata ${Buffer.byteLength(content)}\n${content}\n`;
  }
  stream += commit;
}
const imported = spawnSync('git', ['fast-import', '--quiet'], {
  cwd: s.repo,
  input: stream,
  encoding: 'utf8',
});
if (imported.status !== 0) throw new Error(imported.stderr);
const head = (i) => s.git(['rev-parse', `refs/remotes/origin/claude-lines-${i}`]).trim();
// The branches are on the remote too, as pushed session branches are.
s.git([
  'push',
  '-q',
  'origin',
  ...Array.from(
    { length: SESSIONS },
    (_, i) => `refs/remotes/origin/claude-lines-${i}:refs/heads/claude-lines-${i}`,
  ),
]);
await writeSessions(s.repo, SESSIONS, (i) => ({
  branch: `claude-lines-${i}`,
  host: `bench-${i}`,
  startCommit: root,
  head: head(i),
  changedFiles: filesOf(i),
}));

const conversation = 'c0e1c2d3-0000-4000-8000-000000000001';
const edit = (file, from, to) =>
  JSON.stringify({
    session_id: conversation,
    transcript_path: path.join(s.root, 'transcript.jsonl'),
    cwd: s.repo,
    permission_mode: 'default',
    hook_event_name: 'PreToolUse',
    tool_name: 'Edit',
    tool_input: { file_path: path.join(s.repo, file), old_string: from, new_string: to },
    tool_use_id: 'toolu_bench',
  });
const hookRun = (input) => {
  const r = spawnSync(process.execPath, [CLI, 'claude-hook', 'PreToolUse'], {
    cwd: s.repo,
    env: { ...process.env, ...env },
    input,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
};

try {
  const gitRun = (args) => {
    const start = process.hrtime.bigint();
    const r = spawnSync('git', args, { cwd: s.repo, env: { ...process.env, ...env }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  // The index from nothing: the first sync that sees the 50 tips.
  const build = gitRun(['consortium', 'sync']);
  const warmSync = time('git', ['consortium', 'sync'], { cwd: s.repo, env, runs: 7 });
  // The same sync with the line check off: what the index adds to a sync that finds nothing new.
  const config = path.join(s.repo, 'consortium.config.yaml');
  const kept = readFileSync(config, 'utf8');
  writeFileSync(config, `${kept}policy:\n  lines: off\n`);
  const offSync = time('git', ['consortium', 'sync'], { cwd: s.repo, env, runs: 7 });
  const offGit = gitCalls(['sync'], { cwd: s.repo, env, warm: true }).length;
  writeFileSync(config, kept);
  const onGit = gitCalls(['sync'], { cwd: s.repo, env, warm: true }).length;

  // f0.py is changed by sessions 31..49 and 0; session 0 changed its lines 10-11.
  const near = edit('f0.py', 'line 12 of the file\n', 'line twelve\n');
  const far = edit('f0.py', 'line 2 of the file\n', 'line two\n');
  // The conversation's session, as Claude Code's SessionStart registers it (so an edit knows who edits).
  const started = spawnSync(process.execPath, [CLI, 'claude-hook', 'SessionStart'], {
    cwd: s.repo,
    env: { ...process.env, ...env, CONSORTIUM_RESEARCHER: 'elena' },
    input: JSON.stringify({
      session_id: conversation,
      cwd: s.repo,
      hook_event_name: 'SessionStart',
      source: 'startup',
      transcript_path: path.join(s.root, 't.jsonl'),
    }),
    encoding: 'utf8',
  });
  if (started.status !== 0 || !started.stdout.includes('Registered'))
    throw new Error(`no session for the conversation: ${started.stdout} ${started.stderr}`);
  const denial = hookRun(near);
  if (!denial.includes('"deny"'))
    throw new Error(`the edit near session 0's lines was not warned: ${denial}`);
  if (hookRun(far).includes('"deny"')) throw new Error('an edit far from every change was warned');
  // The warnings given are forgotten before each run, so each run is a first attempt (and warned).
  const warned = path.join(s.repo, '.git', 'consortium', 'line-warnings.log');
  const fresh = () => {
    rmSync(warned, { force: true });
    return near;
  };

  const hook = ['claude-hook', 'PreToolUse'];
  const cases = [
    [
      'PreToolUse Edit, 20 sessions changed the file, near one (warned)',
      { args: hook, input: near, before: fresh },
    ],
    ['PreToolUse Edit, 20 sessions changed the file, far from all', { args: hook, input: far }],
    [
      'PreToolUse Edit, a file nobody else changed',
      { args: hook, input: edit('consortium/elena/notes.md', '# notes\n', '# Notes\n') },
    ],
  ];
  const measured = interleaved(cases, { cwd: s.repo, env, rounds: 41 });
  const rows = measured.cases.map(([label, ms, r], i) => {
    const [, c] = cases[i];
    const git = gitCalls(hook, { cwd: s.repo, env, input: c.input, warm: true, before: c.before }).length;
    return [label, `${ms.toFixed(1)} ms  ${r.toFixed(2)}x  (${git} git)`];
  });
  // The line check alone, as a hook pays it once: its first call in a fresh process, after the
  // context is open (median of 15 processes).
  const alone = [];
  const probe = `
    const { openContext } = await import(${JSON.stringify(path.resolve(import.meta.dirname, '..', 'dist', 'context', 'context.js'))});
    const { lineMeetings } = await import(${JSON.stringify(path.resolve(import.meta.dirname, '..', 'dist', 'services', 'line-check.js'))});
    const ctx = await openContext(process.cwd());
    ctx.sessions();
    const t = performance.now();
    const found = lineMeetings(ctx, 'f0.py', () => [{ first: 2, count: 1 }], undefined);
    console.log(performance.now() - t, found.length);`;
  for (let i = 0; i < 15; i++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
      cwd: s.repo,
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(r.stderr);
    alone.push(Number(r.stdout.split(' ')[0]));
  }
  alone.sort((a, b) => a - b);
  rows.push(['the line check alone (20 sessions in the file, far from all)', `${alone[7].toFixed(2)} ms`]);
  const push = pushBaseline(s, 7);
  report(
    `Line check (${SESSIONS} live sessions x ${FILES_EACH} files; medians; median per round of the ratio to node -e 0; git processes of one run)`,
    [
      ['node -e 0 (baseline: run before each case, every round)', `${measured.baseline.toFixed(1)} ms`],
      ...rows,
      ['sync that builds the index from nothing (50 new tips)', `${build.toFixed(0)} ms`],
      ['sync, every tip already indexed', figure(warmSync, push, onGit)],
      ['sync, the same with policy.lines off', figure(offSync, push, offGit)],
    ],
  );
  console.log('  (the sync rows are against a bare git push of one branch, measured in this run)');
  console.log('  Budget: PreToolUse <= 1.3x node -e 0 (issue 16).');
} finally {
  if (!process.env.BENCH_KEEP) s.cleanup();
  else console.log(`kept ${s.root}`);
}
