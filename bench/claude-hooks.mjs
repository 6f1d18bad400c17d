// Each Claude Code hook handler (`git-consortium claude-hook <Event>` with realistic event JSON
// on stdin), as a ratio against `node -e 0` measured in the same run. Claude Code waits for
// SessionStart, PreToolUse and PostToolUse on the agent's path, and gives all SessionEnd
// hooks together 1.5 s, so SessionEnd is also shown in milliseconds. The repository holds 30
// other live sessions and a lease, so the handlers read a realistic coordination state.
// Run: npm run build && node bench/claude-hooks.mjs
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  againstNode,
  backgroundSettled,
  CLI,
  EXTRA_CA_CERTS,
  gitCalls,
  interleaved,
  median,
  nodeBaseline,
  report,
  scratch,
  time,
  timedFigure,
} from './lib.mjs';

const s = scratch('claude-hooks');
const env = { ...s.env };
const workspace = path.join(s.repo, 'consortium', 'elena');

const cli = (args, options = {}) => {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? s.repo,
    env: { ...process.env, ...env, ...options.env },
    input: options.input,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
};

const event = (name, conversation, fields = {}) =>
  JSON.stringify({
    session_id: conversation,
    transcript_path: path.join(s.root, 'home', '.claude', 'projects', 'bench', `${conversation}.jsonl`),
    cwd: workspace,
    permission_mode: 'default',
    hook_event_name: name,
    ...fields,
  });
const edit = (file) => ({
  tool_name: 'Edit',
  tool_input: { file_path: path.join(s.repo, file), old_string: 'a', new_string: 'b' },
  tool_use_id: 'toolu_bench',
});
/** A handler's median time and the git processes one run of it starts. */
const timeHook = async (name, conversation, fields, runs = 15) => {
  const input = event(name, conversation, fields);
  const timed = await againstNode(process.execPath, [CLI, 'claude-hook', name], {
    cwd: workspace,
    env,
    input,
    runs,
  });
  return [timed, gitCalls(['claude-hook', name], { cwd: workspace, env, input, warm: true }).length];
};
/**
 * The same with background work allowed, as on a researcher's machine: what the handler leaves
 * to a detached process (sharing its record, fetching the others' branches for the line index)
 * is not on the agent's path, and each run starts once the last one's is done.
 */
const live = { ...env, CONSORTIUM_NO_BACKGROUND: '' };
const timeHookLive = async (name, conversation, fields, runs = 9) => {
  const input = event(name, conversation, fields);
  const args = [CLI, 'claude-hook', name];
  const timed = await againstNode(process.execPath, args, {
    cwd: workspace,
    env: live,
    input,
    runs,
    settle: true,
  });
  const calls = gitCalls(['claude-hook', name], { cwd: workspace, env: live, input, own: true, warm: true });
  await backgroundSettled();
  return [timed, calls.length];
};

try {
  // 30 other live sessions (each on a branch of its own, no switch), one of them holding a lease.
  for (let i = 0; i < 30; i++)
    cli(['start', '-r', 'elena', '--no-branch', '--shared', '--intent', `bench ${i}`]);
  const holder = JSON.parse(cli(['start', '-r', 'elena', '--no-branch', '--shared', '--json'])).id;
  cli(['lease', 'acquire', 'src/locked.py', '--allow-missing', '--session', holder]);
  const conversation = 'b0e1c2d3-0000-4000-8000-000000000001';
  cli(['claude-hook', 'SessionStart'], {
    cwd: workspace,
    input: event('SessionStart', conversation, { source: 'startup' }),
  });
  const denial = cli(['claude-hook', 'PreToolUse'], {
    cwd: workspace,
    input: event('PreToolUse', conversation, edit('src/locked.py')),
  });
  if (!denial.includes('"deny"')) throw new Error(`the leased file was not denied: ${denial}`);

  // The baseline is measured before and after the hooks, and their mean is the divisor: on a
  // shared machine the load changes during the run.
  const before = nodeBaseline();
  const timed = [];
  const add = (label, [figure, git]) => timed.push([label, figure, git]);
  add(
    'SessionStart, resume (fetch, heartbeat, orientation)',
    await timeHookLive('SessionStart', conversation, { source: 'resume' }),
  );
  // The tool hooks, which Claude Code waits for on every tool call: timed round by round
  // against node -e 0 (bench/lib.mjs interleaved), so that a machine whose speed drifts during
  // the run does not move their ratios.
  const bashTool = (command) => ({ tool_name: 'Bash', tool_input: { command }, tool_use_id: 'toolu_bench' });
  const toolCases = [
    ['PreToolUse Edit, free file', 'PreToolUse', edit('src/free.py')],
    ['PreToolUse Edit, leased file (deny)', 'PreToolUse', edit('src/locked.py')],
    [
      'PreToolUse Edit, file outside the repository',
      'PreToolUse',
      { tool_name: 'Write', tool_input: { file_path: '/tmp/x.txt' } },
    ],
    ['PostToolUse Edit, file already recorded (no write)', 'PostToolUse', edit('consortium/elena/notes.md')],
    ['PreToolUse Bash, writes nothing (no git, no context)', 'PreToolUse', bashTool('ls -la && git status')],
    [
      'PreToolUse Bash, writes a leased file (deny)',
      'PreToolUse',
      bashTool("sed -i 's/a/b/' ../../src/locked.py"),
    ],
    ['PostToolUse Bash, a lease held, nothing changed', 'PostToolUse', bashTool('true')],
  ].map(([label, name, fields]) => [
    label,
    { args: ['claude-hook', name], input: event(name, conversation, fields) },
  ]);
  const tools = interleaved(toolCases, { cwd: workspace, env });
  const toolRows = tools.cases.map(([label, ms, r], i) => {
    const [, c] = toolCases[i];
    const git = gitCalls(c.args, { cwd: workspace, env, input: c.input, warm: true }).length;
    return [label, `${ms.toFixed(1)} ms  ${r.toFixed(2)}x  (${git} git)`];
  });
  // PreToolUse as Claude Code starts it: the installed command through the shell (then git,
  // then the toolkit), without and with NODE_EXTRA_CA_CERTS in the environment (which the
  // command keeps from Node's start: claude/settings.ts).
  const { hookCommand } = await import('../dist/claude/settings.js');
  const installed = ['-c', hookCommand('PreToolUse')];
  const freeEdit = event('PreToolUse', conversation, edit('src/free.py'));
  const viaShell = await againstNode('sh', installed, { cwd: workspace, env, input: freeEdit });
  const caFile = EXTRA_CA_CERTS || '/etc/ssl/certs/ca-certificates.crt';
  const ca = { ...env, NODE_EXTRA_CA_CERTS: caFile };
  const withCa = existsSync(caFile) && {
    node: time(process.execPath, ['-e', '0'], { env: ca, runs: 9 }),
    hook: time('sh', installed, { cwd: workspace, env: ca, input: freeEdit, runs: 9 }),
  };
  toolRows.push(['PreToolUse Edit, free file, as Claude Code runs it (sh, git)', timedFigure(viaShell)]);
  if (withCa)
    toolRows.push([
      '  the same, NODE_EXTRA_CA_CERTS set (node -e 0 with it)',
      `${withCa.hook.toFixed(1)} ms  (${withCa.node.toFixed(1)} ms: ${(withCa.hook / withCa.node).toFixed(2)}x)`,
    ]);
  add(
    'PreCompact (handoff written, shared)',
    await timeHook('PreCompact', conversation, { trigger: 'auto' }, 7),
  );

  // SessionStart of a new conversation and SessionEnd each need a fresh session per run.
  const starts = [];
  const ends = [];
  const endsShared = [];
  for (let i = 0; i < 9; i++) {
    const id = `b0e1c2d3-0000-4000-8000-1000000000${String(i).padStart(2, '0')}`;
    await backgroundSettled();
    starts.push(timeOnce('SessionStart', id, { source: 'startup' }, { CONSORTIUM_NO_BACKGROUND: '' }));
    await backgroundSettled();
    ends.push(timeOnce('SessionEnd', id, { reason: 'prompt_input_exit' }));
    const id2 = `${id.slice(0, -2)}9${i}`;
    timeOnce('SessionStart', id2, { source: 'startup' });
    endsShared.push(timeOnce('SessionEnd', id2, { reason: 'other' }, { CONSORTIUM_NO_BACKGROUND: '' }));
  }
  add('SessionStart, startup (fetch, register, share, orientation)', [paired(starts)]);
  add('SessionEnd (end here)', [paired(ends)]);
  add('SessionEnd (end here, share in a detached process)', [paired(endsShared)]);
  const after = nodeBaseline();
  const base = (before + after) / 2;
  const rows = [
    [
      'node -e 0 (baseline: mean of before and after)',
      `${base.toFixed(1)} ms (${before.toFixed(1)}, ${after.toFixed(1)})`,
    ],
    ...timed.map(([label, figure, git]) => [label, timedFigure(figure, git)]),
    [
      `node -e 0 (the tool hooks' baseline, run before each in every round)`,
      `${tools.baseline.toFixed(1)} ms`,
    ],
    ...toolRows,
  ];
  report(
    'Claude Code hooks (medians; 31 live sessions, one lease; ratio to node -e 0; git processes of one run)',
    rows,
  );
  console.log(
    `  SessionEnd budget: 1500 ms for all SessionEnd hooks; ours takes ${paired(endsShared).ms.toFixed(0)} ms.`,
  );
} finally {
  await backgroundSettled();
  s.cleanup();
}

/** One run of a handler, right after one of node -e 0: its time and its ratio to that baseline. */
function timeOnce(name, conversation, fields, extraEnv = {}) {
  const baseStart = process.hrtime.bigint();
  spawnSync(process.execPath, ['-e', '0']);
  const base = Number(process.hrtime.bigint() - baseStart) / 1e6;
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, 'claude-hook', name], {
    cwd: workspace,
    env: { ...process.env, ...env, ...extraEnv },
    input: event(name, conversation, fields),
    encoding: 'utf8',
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr}`);
  return { ms, ratio: ms / base };
}

/** The medians of timeOnce's samples, as againstNode gives them. */
function paired(samples) {
  return { ms: median(samples.map((x) => x.ms)), ratio: median(samples.map((x) => x.ratio)) };
}
