// The archive at scale (issue 14 "Scale"): 10,000 finished sessions, generated through the
// store in this process (writeSessions) and archived by the product's own code, not by 10,000
// CLI processes. Figures, medians of one run, each beside its baseline from the same run:
// - a plain `git push` of a branch to the remote holding them, against a remote without them
//   (the goal: within 10%), and, for the before figure, while they were still 10,000 refs;
// - `status --json` and `audit` with 10,000 archived and 300 live sessions (status under 1 s);
// - `sync` of a fresh clone against that remote (under 2 s).
// Beside each, the git processes the command starts. Run: npm run build && node bench/archive.mjs
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  CLI,
  countGit,
  nodeBaseline,
  ratio,
  report,
  scratch,
  time,
  timeOnce,
  writeSessions,
} from './lib.mjs';

const ARCHIVED = Number(process.env.BENCH_ARCHIVED) || 10_000;
const LIVE = 300;
const s = scratch('archive');
const env = { ...s.env, CONSORTIUM_RESEARCHER: 'elena' };

/**
 * Median ms of `git push -f` of a branch to each of `remotes`, alternating two commits so that
 * every push updates it. The remotes take turns, each first in every other round, so that a
 * machine's drift over the run (the 10,000 records just written settling to disk, another
 * process) falls on both alike: measured one after the other, the same two remotes differed by
 * 11-13% in one run and 2% in the next.
 */
function pushTimes(cwd, remotes, runs = 41) {
  const tips = [s.git(['rev-parse', 'HEAD'], cwd).trim(), s.git(['rev-parse', 'HEAD~1'], cwd).trim()];
  const samples = remotes.map(() => []);
  for (let i = 0; i < runs + 2; i++) {
    for (let k = 0; k < remotes.length; k++) {
      const which = (k + i) % remotes.length;
      const start = process.hrtime.bigint();
      const r = spawnSync(
        'git',
        ['push', '-q', '-f', '--no-verify', remotes[which], `${tips[i % 2]}:refs/heads/bench`],
        { cwd, env: { ...process.env, ...env } },
      );
      if (r.status !== 0) throw new Error(`git push: ${r.stderr}`);
      if (i >= 2) samples[which].push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  return samples.map((xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]);
}

const once = (args, cwd) => timeOnce(args, { cwd, env });

try {
  // A remote without any session, for the baseline, and a second commit to push back and forth.
  const plain = path.join(s.root, 'plain.git');
  s.git(['clone', '-q', '--bare', s.remote, plain], s.root);
  s.git(['commit', '-q', '--allow-empty', '-m', 'second']);
  s.git(['push', '-q', 'origin', 'main']);
  s.git(['push', '-q', plain, 'main']);

  const old = new Date(Date.now() - 30 * 86_400_000).toISOString();
  let started = Date.now();
  // Written when they ended, a month ago, as their record commits would have been.
  process.env.CONSORTIUM_CLOCK = old;
  await writeSessions(s.repo, ARCHIVED, () => ({
    state: 'ended',
    startedAt: old,
    heartbeatAt: old,
    endedAt: old,
  }));
  delete process.env.CONSORTIUM_CLOCK;
  s.git(['push', '-q', 'origin', 'refs/consortium/*:refs/consortium/*']);
  const generated = Date.now() - started;
  const [beforeBase, before] = pushTimes(s.repo, [plain, 'origin']);

  // Archived by the product's own code, in this process, as recover does.
  const { openContext } = await import('../dist/context/context.js');
  const { fetchCoordination } = await import('../dist/store/remote.js');
  const { archiveDue } = await import('../dist/services/archive.js');
  Object.assign(process.env, env);
  const ctx = await openContext(s.repo);
  started = Date.now();
  await fetchCoordination(ctx.repo, ctx.config);
  ctx.invalidate();
  const result = await archiveDue(ctx, { olderThanMs: ctx.config.sessions.archiveAfterMs, dryRun: false });
  const archiving = Date.now() - started;
  if (!result.done || result.sessions.length !== ARCHIVED)
    throw new Error(`archived ${result.sessions.length}: ${result.problem ?? ''}`);
  const left = s
    .git(['ls-remote', 'origin', 'refs/consortium/sessions/*'])
    .split('\n')
    .filter(Boolean).length;

  const [base, after] = pushTimes(s.repo, [plain, 'origin']);

  await writeSessions(s.repo, LIVE, () => ({}), ARCHIVED);
  s.git(['push', '-q', 'origin', 'refs/consortium/sessions/*:refs/consortium/sessions/*']);
  const fresh = path.join(s.root, 'fresh');
  s.git(['clone', '-q', s.remote, fresh], s.root);
  const fetchOne = time('git', ['fetch', '-q', 'origin', 'main'], { cwd: fresh, env });
  const node = nodeBaseline();
  const firstSync = once(['sync', '--json'], fresh);
  const status = time(process.execPath, [CLI, 'status', '--json'], { cwd: fresh, env, runs: 9 });
  const audit = time(process.execPath, [CLI, 'audit', '--json'], { cwd: fresh, env, runs: 5 });
  const idleSync = time(process.execPath, [CLI, 'sync', '--json'], { cwd: fresh, env, runs: 5 });
  const gits = (args) => `${countGit(args, { cwd: fresh, env, warm: true })} git`;

  report(
    `${ARCHIVED} archived sessions (generated in ${(generated / 1000).toFixed(1)} s, archived in ${(archiving / 1000).toFixed(1)} s; ${left} session refs left on the remote)`,
    [
      ['git push of a branch, remote without sessions (baseline)', `${base.toFixed(1)} ms`],
      [
        `git push of a branch, remote with ${ARCHIVED} archived`,
        `${after.toFixed(1)} ms  ${ratio(after, base)}`,
      ],
      [
        `before archiving: ${ARCHIVED} session refs (baseline ${beforeBase.toFixed(1)} ms)`,
        `${before.toFixed(1)} ms  ${ratio(before, beforeBase)}`,
      ],
    ],
  );
  report(`${ARCHIVED} archived + ${LIVE} live sessions, a fresh clone (median ms)`, [
    ['git fetch origin main (baseline)', `${fetchOne.toFixed(0)} ms`],
    ['node -e 0', `${node.toFixed(0)} ms  ${ratio(node, fetchOne)}`],
    [
      'sync, first in the fresh clone (goal < 2000 ms)',
      `${firstSync.toFixed(0)} ms  ${ratio(firstSync, fetchOne)}`,
    ],
    [
      'status --json (goal < 1000 ms)',
      `${status.toFixed(0)} ms  ${ratio(status, node)} of node  ${gits(['status', '--json'])}`,
    ],
    [
      'audit --json (lists the archived sessions)',
      `${audit.toFixed(0)} ms  ${ratio(audit, node)} of node  ${gits(['audit', '--json'])}`,
    ],
    [
      'sync, nothing new',
      `${idleSync.toFixed(0)} ms  ${ratio(idleSync, fetchOne)}  ${gits(['sync', '--json'])}`,
    ],
  ]);
} finally {
  if (process.env.BENCH_KEEP) console.log(`kept ${s.root}`);
  else s.cleanup();
}
