// `lease acquire` against a local bare remote, as a ratio against its physical limit measured
// in the same run: the start of Node (`node -e 0`) plus one `git fetch` and one `git push` of
// one ref to the same remote, which acquiring needs (fetch the table, push the new one by
// compare-and-swap). Goal: at most 1.3x. With 1 and with 300 sessions known.
import { spawnSync } from 'node:child_process';
import { CLI, countGit, nodeBaseline, pushBaseline, ratio, report, scratch, time } from './lib.mjs';

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
  const push = pushBaseline(s);

  const node = nodeBaseline();
  const fetch = time('git', ['fetch', '-q', 'origin', '+refs/bench/one:refs/bench-copy/one'], {
    cwd: s.repo,
    env,
  });
  const limit = node + fetch + push;
  // What every coordination fetch of the toolkit asks for (store/remote.ts).
  const COORDINATION_REFSPECS = [
    '+refs/consortium/*:refs/consortium-remote/*',
    '+refs/notes/consortium*:refs/notes/consortium-remote*',
  ];
  const acquireArgs = ['lease', 'acquire', 'src/bench.py', '--allow-missing', '--ttl', '1h'];
  const measure = (args, runs = 11) => {
    const ms = time(process.execPath, [CLI, ...args], { cwd: s.repo, env: withSession, runs });
    return `${ms.toFixed(0)} ms  ${ratio(ms, limit)}  (${countGit(args, { cwd: s.repo, env: withSession, warm: true })} git)`;
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
  // git's own fetch and push grow with the refs on both sides (each checks that what it has
  // is connected by walking every ref): the same limit, measured in this repository.
  const fetchHere = time(
    'git',
    ['fetch', '-q', '--no-tags', '--no-write-fetch-head', '--prune', 'origin', ...COORDINATION_REFSPECS],
    {
      cwd: s.repo,
      env,
    },
  );
  const pushHere = pushBaseline(s);
  const limitHere = node + fetchHere + pushHere;
  const acquireHere = time(process.execPath, [CLI, ...acquireArgs], {
    cwd: s.repo,
    env: withSession,
    runs: 11,
  });
  rows.push(
    ['  with 300 sessions, git fetch of the coordination refs (nothing new)', `${fetchHere.toFixed(0)} ms`],
    ['  with 300 sessions, git push of one ref', `${pushHere.toFixed(0)} ms`],
    [
      '  lease acquire, 300 sessions, against the limit with them',
      `${acquireHere.toFixed(0)} ms  ${ratio(acquireHere, limitHere)}  (limit ${limitHere.toFixed(0)} ms)`,
    ],
  );
  rows.push([
    'lease release --all (nothing held after the first)',
    measure(['lease', 'release', '--all'], 9),
  ]);
  report('lease against a local bare remote (median ms, ratio to the physical limit, git processes)', rows);
} finally {
  s.cleanup();
}
