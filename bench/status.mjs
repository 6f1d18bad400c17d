// The foundation's figures: `status --json` over 300 sessions, `start`, `orient`, each as a
// ratio against `node -e 0` measured in the same run, and the number of git processes that
// `status` starts for 30 and for 300 sessions once it has run there (it must not grow with the
// number of sessions).
import {
  againstNode,
  CLI,
  countGit,
  nodeBaseline,
  report,
  scratch,
  timedFigure,
  writeSessions,
} from './lib.mjs';

const s = scratch('status');
const env = { ...s.env, CONSORTIUM_RESEARCHER: 'elena' };

try {
  await writeSessions(s.repo, 30);
  const git30 = countGit(['status', '--json'], { cwd: s.repo, env, warm: true });
  await writeSessions(s.repo, 270, undefined, 30);
  const git300 = countGit(['status', '--json'], { cwd: s.repo, env, warm: true });
  const base = nodeBaseline();
  const timed = (args, runs) => againstNode(process.execPath, [CLI, ...args], { cwd: s.repo, env, runs });
  const status = await timed(['status', '--json']);
  const orient = await timed(['orient', '--json']);
  const start = await timed(['start', '--shared', '--json'], 9);
  s.git(['pack-refs', '--all']);
  const packed = await timed(['status', '--json']);
  report('Sessions (medians; each ratio to a node -e 0 run just before each sample)', [
    ['node -e 0 (baseline)', `${base.toFixed(1)} ms`],
    ['status --json, 300 sessions, loose refs', timedFigure(status)],
    ['status --json, 300 sessions, packed refs', timedFigure(packed)],
    ['orient --json, 300 sessions', timedFigure(orient)],
    ['start --shared (no branch switch), 300+ sessions', timedFigure(start)],
    ['git processes of status: 30 sessions -> 300 sessions', `${git30} -> ${git300}`],
  ]);
} finally {
  s.cleanup();
}
