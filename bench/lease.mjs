// `lease acquire` against a local bare remote, as a ratio against a plain `git push` of one
// ref to the same remote, measured in the same run; with 30 and with 300 sessions known, since
// acquiring fetches the coordination state first.
import { spawnSync } from 'node:child_process';
import { CLI, nodeBaseline, ratio, report, scratch, time } from './lib.mjs';

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
  const rows = [
    ['git push of one ref (baseline)', `${push.toFixed(0)} ms`],
    ['node -e 0 (for scale: the start of any Node process)', `${node.toFixed(0)} ms  ${ratio(node, push)}`],
  ];
  const acquire = time(
    process.execPath,
    [CLI, 'lease', 'acquire', 'src/bench.py', '--allow-missing', '--ttl', '1h'],
    {
      cwd: s.repo,
      env: withSession,
      runs: 11,
    },
  );
  rows.push([
    'lease acquire (renewing one lease), 1 session',
    `${acquire.toFixed(0)} ms  ${ratio(acquire, push)}`,
  ]);
  for (let i = 0; i < 299; i++) cli(['start', '--no-branch', '--shared', '--json']);
  const acquire300 = time(
    process.execPath,
    [CLI, 'lease', 'acquire', 'src/bench.py', '--allow-missing', '--ttl', '1h'],
    {
      cwd: s.repo,
      env: withSession,
      runs: 11,
    },
  );
  rows.push(['lease acquire, 300 sessions known', `${acquire300.toFixed(0)} ms  ${ratio(acquire300, push)}`]);
  const release = time(process.execPath, [CLI, 'lease', 'release', '--all'], {
    cwd: s.repo,
    env: withSession,
    runs: 9,
  });
  rows.push([
    'lease release --all (nothing held after the first)',
    `${release.toFixed(0)} ms  ${ratio(release, push)}`,
  ]);
  report('lease against a local bare remote (median ms, ratio to git push of one ref)', rows);
} finally {
  s.cleanup();
}
