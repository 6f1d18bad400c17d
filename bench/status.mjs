// The foundation's figures: `status --json` over 300 sessions, `start`, `orient`, each as a
// ratio against `node -e 0` measured in the same run, and the number of git processes that
// `status` starts for 30 and for 300 sessions once it has run there (it must not grow with the
// number of sessions).
import { CLI, countGit, nodeBaseline, ratio, report, scratch, time, writeSessions } from './lib.mjs';

const s = scratch('status');
const env = { ...s.env, CONSORTIUM_RESEARCHER: 'elena' };

try {
  await writeSessions(s.repo, 30);
  const git30 = countGit(['status', '--json'], { cwd: s.repo, env, warm: true });
  await writeSessions(s.repo, 270, undefined, 30);
  const git300 = countGit(['status', '--json'], { cwd: s.repo, env, warm: true });
  const base = nodeBaseline();
  const status = time(process.execPath, [CLI, 'status', '--json'], { cwd: s.repo, env });
  const orient = time(process.execPath, [CLI, 'orient', '--json'], { cwd: s.repo, env });
  const start = time(process.execPath, [CLI, 'start', '--shared', '--json'], { cwd: s.repo, env, runs: 9 });
  s.git(['pack-refs', '--all']);
  const packed = time(process.execPath, [CLI, 'status', '--json'], { cwd: s.repo, env });
  report('Sessions (medians; baseline measured in this run)', [
    ['node -e 0 (baseline)', `${base.toFixed(1)} ms`],
    ['status --json, 300 sessions, loose refs', `${status.toFixed(1)} ms  ${ratio(status, base)}`],
    ['status --json, 300 sessions, packed refs', `${packed.toFixed(1)} ms  ${ratio(packed, base)}`],
    ['orient --json, 300 sessions', `${orient.toFixed(1)} ms  ${ratio(orient, base)}`],
    ['start --shared (no branch switch), 300+ sessions', `${start.toFixed(1)} ms  ${ratio(start, base)}`],
    ['git processes of status: 30 sessions -> 300 sessions', `${git30} -> ${git300}`],
  ]);
} finally {
  s.cleanup();
}
