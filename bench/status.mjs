// The foundation's figures: `status --json` over 300 sessions, `start`, `orient`, each as a
// ratio against `node -e 0` measured in the same run, and the number of git processes that
// `status` starts for 30 and for 300 sessions (it must not grow with the number of sessions).
import { spawnSync } from 'node:child_process';
import { CLI, countGit, nodeBaseline, ratio, report, scratch, time } from './lib.mjs';

const s = scratch('status');
const env = { ...s.env, CONSORTIUM_RESEARCHER: 'elena' };

/** Writes `n` session records in one process, through the product's own store. */
function makeSessions(n) {
  const script = `
    const { openRepo } = await import(${JSON.stringify(new URL('../dist/git/repo.js', import.meta.url).href)});
    const { createSession } = await import(${JSON.stringify(new URL('../dist/store/sessions.js', import.meta.url).href)});
    const { newSessionId } = await import(${JSON.stringify(new URL('../dist/core/ids.js', import.meta.url).href)});
    const repo = openRepo();
    const at = new Date().toISOString();
    for (let i = 0; i < ${n}; i++) {
      createSession(repo, { id: newSessionId(new Date()), researcher: 'elena', branch: 'claude-elena-' + i, worktree: '/w/' + i, host: 'h' + (i % 7),
        user: 'u', email: null, agent: { kind: 'human' }, intent: 'bench', shared: false, startedAt: at, startCommit: null,
        heartbeatAt: at, endedAt: null, state: 'active', head: null, changedFiles: ['src/f' + (i % 13) + '.py'], touchedFiles: [] },
        { name: 'bench', email: 'bench@example.org' });
    }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: s.repo,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr);
}

try {
  makeSessions(30);
  const git30 = countGit(['status', '--json'], { cwd: s.repo, env });
  makeSessions(270);
  const git300 = countGit(['status', '--json'], { cwd: s.repo, env });
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
