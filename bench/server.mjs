// The gate on the server's own cost (SPEC section 13): a push of one new commit on a branch to
// a bare remote holding 100 live sessions, without and then with `server install`, both
// measured in this run, with the git processes each push starts (client, receive-pack and the
// hooks, counted through GIT_TRACE, which they inherit). The pushed commit changes a file that
// sessions changed too, so the gate meets all 100 of them (their records hold no commits of
// their own, so no merge-tree runs).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, nodeBaseline, ratio, report, scratch, writeSessions } from './lib.mjs';

const LIVE = 100;
const RUNS = 15;
const s = scratch('server');
try {
  await writeSessions(s.repo, LIVE);
  s.git(['push', '-q', 'origin', 'refs/consortium/*:refs/consortium/*']);
  let n = 0;
  /** A new commit on top of the last, changing src/f1.py (the sessions' files are src/f*.py). */
  const commitOnce = () => {
    n++;
    spawnSync(
      'sh',
      ['-c', `mkdir -p src && echo ${n} > src/f1.py && git add src/f1.py && git commit -qm "change ${n}"`],
      {
        cwd: s.repo,
        env: { ...process.env, ...s.env },
      },
    );
  };
  const pushMedian = () => {
    const samples = [];
    for (let i = 0; i < RUNS + 2; i++) {
      commitOnce();
      const start = process.hrtime.bigint();
      s.git(['push', '-q', 'origin', 'HEAD:refs/heads/work']);
      if (i >= 2) samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    samples.sort((a, b) => a - b);
    return samples[Math.floor(samples.length / 2)];
  };
  // Every git process of the push, the hook's included (they inherit GIT_TRACE; a shim on PATH
  // would not see them: git puts its own folder first on a hook's PATH).
  const gitOfPush = () => {
    commitOnce();
    const trace = path.join(s.root, `trace-${n}`);
    s.git(['push', '-q', 'origin', 'HEAD:refs/heads/work'], s.repo, { GIT_TRACE: trace });
    const lines = readFileSync(trace, 'utf8')
      .split('\n')
      .filter((l) => /trace: built-in: git /.test(l));
    if (process.env.BENCH_SHOW_GIT)
      console.log(lines.map((l) => l.replace(/^.*built-in: /, '    ')).join('\n'));
    return lines.length;
  };
  const base = nodeBaseline();
  const plain = pushMedian();
  const plainGit = gitOfPush();
  const installed = spawnSync(process.execPath, [CLI, 'server', 'install', '--repo', s.remote], {
    cwd: s.root,
    env: { ...process.env, ...s.env },
    encoding: 'utf8',
  });
  if (installed.status !== 0) throw new Error(installed.stderr);
  const gated = pushMedian();
  const gatedGit = gitOfPush();
  report(
    `The gate on the server, ${LIVE} live sessions (medians of ${RUNS}; baselines measured in this run)`,
    [
      ['node -e 0', `${base.toFixed(1)} ms`],
      ['git push of one new commit, no server hook (baseline)', `${plain.toFixed(1)} ms  (${plainGit} git)`],
      [
        'the same push through the server gate',
        `${gated.toFixed(1)} ms  ${ratio(gated, plain)}  (${gatedGit} git)`,
      ],
      [
        'what the gate adds to a push',
        `${(gated - plain).toFixed(1)} ms  ${ratio(gated - plain, base)} node -e 0`,
      ],
    ],
  );
} finally {
  s.cleanup();
}
