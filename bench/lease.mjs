// `lease acquire` against a local bare remote, as a ratio against its physical limit measured
// in the same run: the start of Node (`node -e 0`) plus one `git fetch` and one `git push` of
// one ref to the same remote, which acquiring needs (fetch the table, push the new one by
// compare-and-swap). Goal: at most 1.3x. With 1 and with 300 sessions known.
import { spawnSync } from 'node:child_process';
import { CLI, countGit, nodeBaseline, ratio, report, scratch, time } from './lib.mjs';

const s = scratch('lease');
const env = { ...s.env, CONSORTIUM_RESEARCHER: 'elena' };

function cli(args) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: s.repo,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

try {
  const session = JSON.parse(cli(['start', '--no-branch', '--json'])).id;
  const withSession = { ...env, CONSORTIUM_SESSION: session };
  // Baseline: a push that really moves one ref each time (two commits, pushed in turn).
  const a = s.git(['commit-tree', '4b825dc642cb6eb9a060e54bf8d69288fbee4904', '-m', 'a']).trim();
  const b = s.git(['commit-tree', '4b825dc642cb6eb9a060e54bf8d69288fbee4904', '-m', 'b']).trim();
  let flip = false;
  const pushSamples = [];
  for (let i = 0; i < 17; i++) {
    flip = !flip;
    const start = process.hrtime.bigint();
    s.git(['push', '-q', '--force', 'origin', `${flip ? a : b}:refs/bench/one`]);
    if (i >= 2) pushSamples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  pushSamples.sort((x, y) => x - y);
  const push = pushSamples[Math.floor(pushSamples.length / 2)];

  const node = nodeBaseline();
  const fetch = time('git', ['fetch', '-q', 'origin', '+refs/bench/one:refs/bench-copy/one'], {
    cwd: s.repo,
    env,
  });
  const limit = node + fetch + push;
  const acquireArgs = ['lease', 'acquire', 'src/bench.py', '--allow-missing', '--ttl', '1h'];
  const measure = (args, runs = 11) => {
    const ms = time(process.execPath, [CLI, ...args], { cwd: s.repo, env: withSession, runs });
    return `${ms.toFixed(0)} ms  ${ratio(ms, limit)}  (${countGit(args, { cwd: s.repo, env: withSession })} git)`;
  };
  const rows = [
    ['git push of one ref', `${push.toFixed(0)} ms`],
    ['git fetch of one ref', `${fetch.toFixed(0)} ms`],
    ['node -e 0', `${node.toFixed(0)} ms`],
    ['physical limit: node -e 0 + one fetch + one push (baseline)', `${limit.toFixed(0)} ms`],
    ['lease acquire (renewing one lease), 1 session (goal <= 1.3x)', measure(acquireArgs)],
  ];
  for (let i = 0; i < 299; i++) cli(['start', '--no-branch', '--shared', '--json']);
  rows.push(['lease acquire, 300 sessions known (goal <= 1.3x)', measure(acquireArgs)]);
  rows.push([
    'lease release --all (nothing held after the first)',
    measure(['lease', 'release', '--all'], 9),
  ]);
  report('lease against a local bare remote (median ms, ratio to the physical limit, git processes)', rows);
} finally {
  s.cleanup();
}
