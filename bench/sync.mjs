// `sync` with 300 sessions on the remote, as a ratio against a plain `git fetch` of one ref
// from the same remote, measured in the same run: the first sync of a fresh clone (brings all
// 300 records and the notes), a sync with nothing new, and a sync after one other machine
// changed one session.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { CLI, nodeBaseline, ratio, report, scratch, time, writeSessions } from './lib.mjs';

const SESSIONS = 300;
const s = scratch('sync');
const env = { ...s.env, CONSORTIUM_RESEARCHER: 'elena' };

function once(args, cwd) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

try {
  await writeSessions(s.repo, SESSIONS);
  s.git(['push', '-q', 'origin', 'refs/consortium/*:refs/consortium/*']);
  const other = path.join(s.root, 'other');
  s.git(['clone', '-q', s.remote, other], s.root);

  const fetchOne = time('git', ['fetch', '-q', 'origin', 'main'], { cwd: other, env });
  const fetchAll = time('git', ['fetch', '-q', 'origin', '+refs/consortium/*:refs/bench-copy/*'], {
    cwd: other,
    env,
  });
  const node = nodeBaseline();
  const first = once(['sync', '--json'], other);
  const idle = time(process.execPath, [CLI, 'sync', '--json'], { cwd: other, env, runs: 9 });
  // One session changes on the first machine between syncs of the other.
  const changed = [];
  for (let i = 0; i < 7; i++) {
    once(['start', '--no-branch', '--shared', '--json'], s.repo);
    changed.push(once(['sync', '--json'], other));
  }
  changed.sort((a, b) => a - b);
  const oneChange = changed[Math.floor(changed.length / 2)];
  report(`sync with ${SESSIONS} sessions on the remote (median ms, ratio to git fetch of one ref)`, [
    ['git fetch origin main (baseline)', `${fetchOne.toFixed(0)} ms`],
    [
      'node -e 0 (for scale: the start of any Node process)',
      `${node.toFixed(0)} ms  ${ratio(node, fetchOne)}`,
    ],
    [
      `git fetch of the ${SESSIONS} session refs, nothing else`,
      `${fetchAll.toFixed(0)} ms  ${ratio(fetchAll, fetchOne)}`,
    ],
    ['sync, first in a fresh clone (all records, once)', `${first.toFixed(0)} ms  ${ratio(first, fetchOne)}`],
    ['sync, nothing new', `${idle.toFixed(0)} ms  ${ratio(idle, fetchOne)}`],
    [
      'sync, one session started elsewhere since',
      `${oneChange.toFixed(0)} ms  ${ratio(oneChange, fetchOne)}`,
    ],
  ]);
} finally {
  s.cleanup();
}
