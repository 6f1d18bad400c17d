// Runs every test file in its own process (one more at a time than there are cores: the tests
// spend much of their time waiting on git processes), reads uvu's
// summary of each, and ends with one plain `N passed, N failed` line. A file that crashes, or
// never runs its suite, counts as a failure: uvu alone would pass it silently.
// `--agents` runs the tests that drive the real Claude Code CLI (test/agents/) instead of the
// rest: they need its 400 MB binary and run in their own script (npm run test:agents).
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const agents = args.includes('--agents');
const root = path.resolve(import.meta.dirname, '..', 'test');
const only = args.filter((a) => a !== '--agents');
const agentsDir = path.join(root, 'agents');
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) {
      if (full !== agentsDir) walk(full);
    } else if (name.endsWith('.test.ts') && (only.length === 0 || only.some((o) => full.includes(o))))
      files.push(full);
  }
};
walk(agents ? agentsDir : root);

// A suite started from inside Claude Code must not look like an agent to the code it tests.
// Local times in text are read as UTC, whatever the machine's zone, so tests can name them.
const testEnv = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', TZ: 'UTC' };
for (const name of Object.keys(testEnv))
  if (name === 'CLAUDECODE' || name === 'AI_AGENT' || name.startsWith('CLAUDE_CODE_')) delete testEnv[name];

// The end-to-end files of ordinary coordination work run a second time with the gate on the
// server installed in every remote (test/helpers/sandbox.ts), to show that start, push, sync,
// leases, gates, handoffs, recover and archive pass it untouched. (Files whose setup writes
// what that gate refuses by design, forged records or pushes past the clients' gate, are not
// among them; test/e2e/server.test.ts tests those refusals.)
const ORDINARY_WORK = [
  'agent-gate',
  'archive',
  'checkpoint',
  'everyday',
  'faults',
  'gates',
  'handoff',
  'postmerge',
  'recover',
  'sessions',
];
const withServerGate = (file) =>
  !agents &&
  path.dirname(file) === path.join(root, 'e2e') &&
  ORDINARY_WORK.includes(path.basename(file, '.test.ts'));

const runFile = ({ file, serverGate }) =>
  new Promise((resolve) => {
    const started = Date.now();
    const env = serverGate ? { ...testEnv, CONSORTIUM_TEST_SERVER_GATE: '1' } : testEnv;
    const child = spawn(process.execPath, ['--import', 'tsx', file], { env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => {
      const num = (label) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(out)?.[1] ?? NaN);
      const total = num('Total');
      const passed = num('Passed');
      const skipped = num('Skipped') || 0;
      const summarised = Number.isFinite(total) && Number.isFinite(passed);
      const failed = summarised ? total - passed - skipped : 1;
      resolve({
        file,
        serverGate,
        code,
        out,
        total: summarised ? total : 1,
        passed: summarised ? passed : 0,
        failed: code !== 0 && failed === 0 ? 1 : failed,
        skipped,
        ms: Date.now() - started,
      });
    });
  });

const results = [];
// The longest files first (their size is a fair guess), so that no core idles at the end.
const runs = [
  ...files.map((file) => ({ file, serverGate: false })),
  ...files.filter(withServerGate).map((file) => ({ file, serverGate: true })),
];
const queue = runs.sort((a, b) => statSync(b.file).size - statSync(a.file).size);
const workers = Array.from({ length: Math.min(availableParallelism() + 1, queue.length) }, async () => {
  while (queue.length) {
    const result = await runFile(queue.shift());
    results.push(result);
    const rel = path.relative(root, result.file) + (result.serverGate ? ' (server gate)' : '');
    const mark = result.failed ? 'FAIL' : 'ok  ';
    process.stdout.write(
      `${mark} ${rel}  (${result.passed}/${result.total}, ${(result.ms / 1000).toFixed(1)}s)\n`,
    );
    if (result.failed) process.stdout.write(result.out.replace(/^/gm, '    | ') + '\n');
  }
});
await Promise.all(workers);

const passed = results.reduce((n, r) => n + r.passed, 0);
const failed = results.reduce((n, r) => n + r.failed, 0);
const skipped = results.reduce((n, r) => n + r.skipped, 0);
if (skipped)
  process.stdout.write(`(${skipped} skipped: a skipped test is a failure to finish, not a pass)\n`);
process.stdout.write(`${passed} passed, ${failed + skipped} failed\n`);
process.exitCode = failed + skipped || files.length === 0 ? 1 : 0;
