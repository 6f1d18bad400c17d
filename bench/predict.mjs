// Predicted merge conflicts: `status --json` with 50 live session branches that all changed one
// file, so every one of the 1225 pairs is merged speculatively. Figures are ratios against
// `node -e 0` and against one `git merge-tree` call, both measured in this run; the number of
// git processes is counted for 10 sessions (45 pairs) and 50 sessions (1225 pairs), with and
// without the cache of merge results. Run after `npm run build`.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, countGit, nodeBaseline, ratio, report, scratch, time, writeSessions } from './lib.mjs';

const LINES = 200;
const s = scratch('predict');
// Not the host of any session: every tip is a pushed branch, as in a clone after `status --fetch`.
const env = { ...s.env, CONSORTIUM_HOST: 'bench-reader' };
const cache = path.join(s.repo, '.git', 'consortium', 'merge-cache.json');

const base = Array.from({ length: LINES }, (_, i) => `line ${i + 1}`);
writeFileSync(path.join(s.repo, 'shared.txt'), `${base.join('\n')}\n`);
s.git(['add', 'shared.txt']);
s.git(['commit', '-qm', 'shared file']);
s.git(['push', '-q', 'origin', 'main']);
const root = s.git(['rev-parse', 'HEAD']).trim();

/**
 * Session i changes its own line of shared.txt (three lines apart, so neighbours merge
 * cleanly); even sessions also change line 1, so every pair of even sessions conflicts.
 * All branches in one fast-import, as pushed branches (refs/remotes/origin/...).
 */
function makeBranches(from, to) {
  let stream = '';
  for (let i = from; i < to; i++) {
    const lines = [...base];
    lines[9 + 3 * i] = `session ${i} was here`;
    if (i % 2 === 0) lines[0] = `header by session ${i}`;
    const content = `${lines.join('\n')}\n`;
    const message = `session ${i}`;
    stream +=
      `commit refs/remotes/origin/claude-s-${i}\ncommitter bench <bench@example.org> ${1700000000 + i} +0000\n` +
      `data ${Buffer.byteLength(message)}\n${message}\nfrom ${root}\n` +
      `M 100644 inline shared.txt\ndata ${Buffer.byteLength(content)}\n${content}\n`;
  }
  const r = spawnSync('git', ['fast-import', '--quiet'], { cwd: s.repo, input: stream, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}

/** Their session records, through the product's own store. */
function makeSessions(from, to) {
  const head = (i) =>
    spawnSync('git', ['rev-parse', `refs/remotes/origin/claude-s-${i}`], {
      cwd: s.repo,
      encoding: 'utf8',
    }).stdout.trim();
  return writeSessions(
    s.repo,
    to - from,
    (i) => ({
      branch: `claude-s-${i}`,
      host: `bench-${i}`,
      startCommit: root,
      head: head(i),
      changedFiles: ['shared.txt'],
    }),
    from,
  );
}

/** Git processes of a command run with no cached merge results. */
function cold(args) {
  rmSync(cache, { force: true });
  return countGit(args, { cwd: s.repo, env });
}

try {
  makeBranches(0, 10);
  await makeSessions(0, 10);
  const git10 = cold(['status', '--json']);
  makeBranches(10, 50);
  await makeSessions(10, 50);
  const git50 = cold(['status', '--json']);
  const git50warm = countGit(['status', '--json'], { cwd: s.repo, env, warm: true });

  const out = spawnSync(process.execPath, [CLI, 'status', '--json'], {
    cwd: s.repo,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  const status = JSON.parse(out.stdout);
  const merges = status.conflicts.filter((c) => c.kind === 'merge').length;
  if (status.sessions.length !== 50 || merges !== (25 * 24) / 2)
    throw new Error(
      `expected 50 sessions and 300 merge conflicts, got ${status.sessions.length} and ${merges}`,
    );

  const tip = (i) => s.git(['rev-parse', `refs/remotes/origin/claude-s-${i}`]).trim();
  const pairs = [];
  for (let i = 0; i < 50; i++) for (let j = i + 1; j < 50; j++) pairs.push(`${tip(i)} ${tip(j)}\n`);
  const node = nodeBaseline();
  const one = time('git', ['merge-tree', '--write-tree', tip(1), tip(3)], { cwd: s.repo, env });
  const batch = time('git', ['merge-tree', '--write-tree', '--stdin', '--name-only', '--no-messages'], {
    cwd: s.repo,
    env,
    input: pairs.join(''),
    runs: 7,
  });
  const statusCold = time(
    'sh',
    ['-c', `rm -f "$0" && exec "$1" "$2" status --json`, cache, process.execPath, CLI],
    {
      cwd: s.repo,
      env,
      runs: 7,
    },
  );
  const statusWarm = time(process.execPath, [CLI, 'status', '--json'], { cwd: s.repo, env });

  report(
    'Predicted merge conflicts, 50 live sessions, 1225 pairs (medians; baselines measured in this run)',
    [
      ['node -e 0 (baseline)', `${node.toFixed(1)} ms`],
      ['one git merge-tree --write-tree A B (baseline)', `${one.toFixed(1)} ms  ${ratio(one, node)} node`],
      [
        'git merge-tree --stdin, all 1225 pairs, one process',
        `${batch.toFixed(1)} ms  ${ratio(batch, node)} node  ${ratio(batch, one)} merge-tree`,
      ],
      [
        'status --json, cold cache (every pair merged)',
        `${statusCold.toFixed(1)} ms  ${ratio(statusCold, node)} node  ${ratio(statusCold, one)} merge-tree`,
      ],
      [
        'status --json, warm cache (repeated status)',
        `${statusWarm.toFixed(1)} ms  ${ratio(statusWarm, node)} node  ${ratio(statusWarm, one)} merge-tree`,
      ],
      ['merge conflicts found (25 even sessions: 300 pairs)', String(merges)],
      ['git processes of status, cold: 45 pairs -> 1225 pairs', `${git10} -> ${git50}`],
      ['git processes of status, warm cache, 1225 pairs', String(git50warm)],
    ],
  );
  if (git50 !== git10) {
    console.error('the number of git processes grew with the number of pairs');
    process.exitCode = 1;
  }
} finally {
  s.cleanup();
}
