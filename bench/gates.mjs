// The gate-and-key framework's figures: `gates --json` and `orient --json` with few and with
// many gate changes (50 writing clones x 40 changes = 2,000 events), `gates unlock` (a write
// and a push), each as a ratio against `node -e 0` measured in the same run, and the number
// of git processes `gates --json` starts (it must not grow with writers or events).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, countGit, nodeBaseline, ratio, report, scratch, time } from './lib.mjs';

const s = scratch('gates');
const env = { ...s.env, CONSORTIUM_RESEARCHER: 'elena' };
const gates = Array.from(
  { length: 10 },
  (_, i) => `  G${i}: { owner: elena${i ? `, requires: [G${i - 1}]` : ''} }`,
);
writeFileSync(
  path.join(s.repo, 'consortium.config.yaml'),
  `researchers:\n  elena: {}\n  yuki: {}\nprotocol: [protocol/**]\ngates:\n${gates.join('\n')}\n`,
);
s.git(['commit', '-qam', 'gates']);

/** Writes `events` gate changes as each of `writers` clones, through the product's own store. */
function makeEvents(writers, events, from = 0) {
  const script = `
    const { openRepo } = await import(${JSON.stringify(new URL('../dist/git/repo.js', import.meta.url).href)});
    const { appendGateEvent, newEventId } = await import(${JSON.stringify(new URL('../dist/store/gates.js', import.meta.url).href)});
    const { git } = await import(${JSON.stringify(new URL('../dist/git/run.js', import.meta.url).href)});
    const repo = openRepo();
    for (let w = ${from}; w < ${from + writers}; w++) {
      git(['config', 'consortium.writer', 'bench-' + w], { cwd: repo.top });
      for (let i = 0; i < ${events}; i++) {
        const at = new Date(Date.UTC(2020, 0, 1, 0, 0, w * 1000 + i)).toISOString();
        appendGateEvent(repo, { id: newEventId(at), gate: 'G' + (i % 10), action: i % 2 ? 'reopen' : 'unlock',
          by: 'yuki', at, note: null, forced: true, overrode: ['not-owner:elena'], session: null },
          { name: 'bench', email: 'bench@example.org' });
      }
    }
    git(['config', '--unset', 'consortium.writer'], { cwd: repo.top });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: s.repo,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr);
}

try {
  makeEvents(2, 5);
  const gitFew = countGit(['gates', '--json'], { cwd: s.repo, env, warm: true });
  const base = nodeBaseline();
  const fewGates = time(process.execPath, [CLI, 'gates', '--json'], { cwd: s.repo, env });
  const fewOrient = time(process.execPath, [CLI, 'orient', '--json'], { cwd: s.repo, env });
  makeEvents(48, 40, 2);
  const gitMany = countGit(['gates', '--json'], { cwd: s.repo, env, warm: true });
  const manyGates = time(process.execPath, [CLI, 'gates', '--json'], { cwd: s.repo, env });
  const manyOrient = time(process.execPath, [CLI, 'orient', '--json'], { cwd: s.repo, env });
  const mermaid = time(process.execPath, [CLI, 'gates', '--mermaid'], { cwd: s.repo, env });
  // Every run writes one event and pushes it to the (local, bare) remote: reopen, unlock, ...
  const writes = [];
  for (let i = 0; i < 10; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [CLI, 'gates', i % 2 ? 'unlock' : 'reopen', 'G0'], {
      cwd: s.repo,
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    if (r.status !== 0 || !/Unlocked|Reopened/.test(r.stdout)) throw new Error(r.stderr || r.stdout);
    writes.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const unlock = writes.sort((a, b) => a - b)[5];
  report('Gates (medians; baseline measured in this run)', [
    ['node -e 0 (baseline)', `${base.toFixed(1)} ms`],
    ['gates --json, 2 writers x 5 events', `${fewGates.toFixed(1)} ms  ${ratio(fewGates, base)}`],
    ['orient --json, 10 events', `${fewOrient.toFixed(1)} ms  ${ratio(fewOrient, base)}`],
    ['gates --json, 50 writers, 1,930 events', `${manyGates.toFixed(1)} ms  ${ratio(manyGates, base)}`],
    ['gates --mermaid, 1,930 events', `${mermaid.toFixed(1)} ms  ${ratio(mermaid, base)}`],
    ['orient --json, 1,930 events', `${manyOrient.toFixed(1)} ms  ${ratio(manyOrient, base)}`],
    ['gates unlock/reopen G0 (one write, one push)', `${unlock.toFixed(1)} ms  ${ratio(unlock, base)}`],
    ['git processes of gates --json: 10 events -> 1,930 events', `${gitFew} -> ${gitMany}`],
  ]);
} finally {
  s.cleanup();
}
