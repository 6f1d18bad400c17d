// `sync` with 300 sessions on the remote, as a ratio against its physical limit measured in
// the same run: the start of Node (`node -e 0`) plus one `git fetch` and one `git push` of one
// ref (goal for a sync with nothing new: at most 1.3x). Also the first sync of a fresh clone
// (brings all 300 records and the notes) and a sync after another machine changed one session.
import path from 'node:path';
import {
  CLI,
  countGit,
  nodeBaseline,
  pushBaseline,
  ratio,
  report,
  scratch,
  time,
  timeOnce,
  writeSessions,
} from './lib.mjs';

const SESSIONS = 300;
const s = scratch('sync');
const env = { ...s.env, CONSORTIUM_RESEARCHER: 'elena' };

const once = (args, cwd) => timeOnce(args, { cwd, env });

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
  const push = pushBaseline(s, 11);
  const limit = node + fetchOne + push;
  const first = once(['sync', '--json'], other);
  const idle = time(process.execPath, [CLI, 'sync', '--json'], { cwd: other, env, runs: 9 });
  const idleGit = countGit(['sync', '--json'], { cwd: other, env, warm: true });
  // One session changes on the first machine between syncs of the other.
  const changed = [];
  for (let i = 0; i < 7; i++) {
    once(['start', '--no-branch', '--shared', '--json'], s.repo);
    changed.push(once(['sync', '--json'], other));
  }
  changed.sort((x, y) => x - y);
  const oneChange = changed[Math.floor(changed.length / 2)];
  const row = (ms, git) =>
    `${ms.toFixed(0)} ms  ${ratio(ms, limit)}${git === undefined ? '' : `  (${git} git)`}`;
  report(
    `sync with ${SESSIONS} sessions on the remote (median ms, ratio to the physical limit, git processes)`,
    [
      ['git fetch origin main', `${fetchOne.toFixed(0)} ms`],
      ['git push of one ref', `${push.toFixed(0)} ms`],
      ['node -e 0', `${node.toFixed(0)} ms`],
      ['physical limit: node -e 0 + one fetch + one push (baseline)', `${limit.toFixed(0)} ms`],
      [`git fetch of the ${SESSIONS} session refs, nothing else`, row(fetchAll)],
      ['sync, first in a fresh clone (all records, once)', row(first)],
      ['sync, nothing new (goal <= 1.3x)', row(idle, idleGit)],
      ['sync, one session started elsewhere since', row(oneChange)],
    ],
  );
} finally {
  s.cleanup();
}
