import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HANDOFF_SECTIONS } from '../helpers/contract.js';
import { consortium, json, type Machine, must } from '../helpers/sandbox.js';

/** Handoffs and compaction: what the next session starts from. */
const { m, cleanup } = consortium(['elena', 'yuki', 'aria']);
const { elena, yuki, aria } = m;
test.after(cleanup);

const sync = (machine: Machine) => must(machine.gc(['sync']));

const SUMMARY = `Tightened the confidence intervals in the protocol spec.

## Next steps
- Rerun the bootstrap with 10k samples
- Ask Yuki to check the latency budget
`;

let elenaSession = '';
let yukiSession = '';

// Setup: Yuki changes a protocol file in a live session that Elena can see (it asserts nothing of its own: a failure here stops the file).
test.before(() => {
  yukiSession = json(yuki, ['start', '-r', 'yuki-tanaka', '--intent', 'latency budget']).id;
  yuki.commit('Latency budget in the spec', { 'protocol/spec.md': '# Protocol\n\nlatency: 5ms\n' });
  must(yuki.gc(['heartbeat']));
  must(yuki.gc(['share', `refs/consortium/sessions/${yukiSession}`]));
  sync(elena);
});

test('orient alerts Elena to protocol changes by others since her last look, once', () => {
  const first = json(elena, ['orient', '-r', 'elena-vasquez']);
  const protocol = first.alerts.filter((a: any) => a.kind === 'protocol');
  assert.equal(
    protocol.map((a: any) => [a.by, a.session, a.files]),
    [['yuki-tanaka', yukiSession, ['protocol/spec.md']]],
  );
  const second = json(elena, ['orient', '-r', 'elena-vasquez']);
  assert.equal(
    second.alerts.filter((a: any) => a.kind === 'protocol'),
    [],
  );
  // A protocol change that reaches the default branch is news too, with its commit.
  must(aria.git(['pull', '-q', '--no-rebase', 'origin', 'main']));
  aria.commit('Descriptor limits', { 'TCP_SPECIFICATION.md': '# TCP\n\nlimits\n' });
  must(aria.git(['push', '-q', 'origin', 'HEAD:main']));
  sync(elena);
  const third = json(elena, ['orient', '-r', 'elena-vasquez']);
  const onMain = third.alerts.filter((a: any) => a.kind === 'protocol' && a.commit);
  assert.is(onMain.length, 1);
  assert.equal(onMain[0].files, ['TCP_SPECIFICATION.md']);
  assert.is(onMain[0].by, 'aria');
  const text = must(elena.gc(['orient', '-r', 'elena-vasquez'])).stdout;
  assert.not.match(text, /TCP_SPECIFICATION/, 'shown once');
});

test('handoff from stdin: every section of SPEC 8, the summary, the protocol files and who is affected', () => {
  const started = json(elena, ['start', '-r', 'elena-vasquez', '--intent', 'confidence intervals']);
  elenaSession = started.id;
  elena.commit('Confidence intervals', {
    'protocol/spec.md': '# Protocol\n\nconfidence: 99%\n',
    'consortium/elena-vasquez/results.md': 'CI: [0.91, 0.97]\n',
  });
  must(elena.gc(['gates', 'unlock', 'G1', '-r', 'elena-vasquez', '--note', 'rigor reached']));
  const r = elena.gc(['handoff', '-'], { input: SUMMARY });
  assert.is(r.code, 0, r.stderr);
  const md = r.stdout;
  assert.match(
    md,
    /Push branch claude-elena-vasquez-\S+: 1 commit not on the remote/,
    'the unpushed work is counted',
  );
  let last = -1;
  for (const section of HANDOFF_SECTIONS) {
    const at = md.indexOf(`\n${section}\n`);
    assert.ok(at > last, `${section} present, in order`);
    last = at;
  }
  assert.match(md, /# Handoff: session /);
  assert.ok(md.includes(`- Id: ${elenaSession}`));
  assert.match(md, /- Researcher: Dr\. Elena Vasquez \(elena-vasquez\)/);
  assert.match(md, /Protocol files changed:\n- `protocol\/spec\.md`/);
  assert.ok(
    md.includes(`${yukiSession} of yuki-tanaka: also changed \`protocol/spec.md\``),
    'the affected session',
  );
  assert.match(md, /Coordination needed: agree with yuki-tanaka/);
  assert.match(md, /G1 unlocked by elena-vasquez at .*: rigor reached/);
  assert.match(md, /1 commit since [0-9a-f]{10}:\n- [0-9a-f]{10} Confidence intervals/);
  assert.match(md, /`consortium\/elena-vasquez\/results\.md`/);
  assert.match(md, /## Summary\n\nTightened the confidence intervals in the protocol spec\.\n/);
  assert.match(
    md,
    /## Next steps\n\n- Rerun the bootstrap with 10k samples\n- Ask Yuki to check the latency budget\n/,
  );
  assert.match(md, /\nOpen conflicts:\n- high protocol: /, 'the open protocol conflict with Yuki is listed');
  // Each thing once: the conflict is described under Open conflicts, and the step points there.
  const described = /\nOpen conflicts:\n- \S+ protocol: (.+)\n/.exec(md)?.[1] ?? '';
  assert.ok(described.length > 20, md);
  assert.is(md.split(described).length - 1, 1, 'the conflict is told once');
  assert.match(md, '- Resolve the open conflict listed under Open conflicts and leases.');
});

test('the head commit carries a note naming the session', () => {
  const head = must(elena.git(['rev-parse', 'HEAD'])).stdout.trim();
  const note = must(elena.git(['notes', '--ref=consortium', 'show', head])).stdout;
  const entries = note
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  const handoff = entries.find((e: any) => e.type === 'handoff');
  assert.ok(handoff, 'a handoff note');
  assert.is(handoff.session, elenaSession);
  assert.is(handoff.researcher, 'elena-vasquez');
  assert.match(handoff.markdown, /## Next steps/);
  const log = must(elena.git(['log', '-1', '--notes=consortium'])).stdout;
  assert.ok(log.includes(elenaSession), 'git log --notes=consortium shows it');
});

test('compact ends the session, and the next orient shows that handoff', () => {
  elena.write('summary.txt', 'Compacted: intervals done, bootstrap pending.\n');
  const r = json(elena, ['compact', '--summary-file', 'summary.txt']);
  assert.is(r.session, elenaSession);
  assert.is(r.state, 'ended');
  const all = json(elena, ['status', '--all']);
  assert.is(all.sessions.find((s: any) => s.id === elenaSession).state, 'ended');
  const o = json(elena, ['orient', '-r', 'elena-vasquez']);
  assert.is(o.handoff.session, elenaSession);
  assert.match(o.handoff.markdown, /Compacted: intervals done, bootstrap pending\./);
  assert.match(o.handoff.markdown, /- Ended: /);
  const text = must(elena.gc(['orient', '-r', 'elena-vasquez'])).stdout;
  assert.match(text, /Your latest handoff \(session /);
  const again = elena.gc(['compact', '--session', elenaSession]);
  assert.is(again.code, 1);
  assert.match(again.stderr, /already ended/);
});

test('start shows the latest handoff; another machine sees it after sync', () => {
  const started = must(elena.gc(['start', '-r', 'elena-vasquez']));
  assert.match(started.stdout, `Where you left off (session ${elenaSession.slice(-6)}, `);
  assert.match(started.stdout, /Compacted: intervals done/);
  // The summary and the steps, not the whole document: handoff show has that.
  assert.not.match(started.stdout, '## Summary');
  assert.ok(started.stdout.split('\n').length <= 20, started.stdout);
  assert.match(started.stdout, 'git consortium handoff show has all of it.');
  const asJson = JSON.parse(
    must(elena.gc(['start', '-r', 'elena-vasquez', '--no-branch', '--shared', '--json'])).stdout,
  );
  assert.is(asJson.latestHandoff.session, elenaSession);
  must(elena.gc(['end', '--session', asJson.id]));
  sync(aria);
  const shown = json(aria, ['handoff', '--show', '-r', 'elena-vasquez']);
  assert.is(shown.handoff.session, elenaSession);
  const none = must(aria.gc(['handoff', '--show', '-r', 'aria-blackwood']));
  assert.match(none.stdout, /No handoff from aria-blackwood \(known from the --researcher flag\) yet/);
  must(elena.gc(['end']));
});

test('audit lists sessions and handoffs, each with its record commit', () => {
  const { events } = json(elena, ['audit']);
  const handoffs = events.filter((e: any) => e.kind === 'handoff' && e.session === elenaSession);
  assert.is(handoffs.length, 2, 'the handoff and the compaction');
  const starts = events.filter((e: any) => e.kind === 'session' && e.action === 'start');
  assert.ok(starts.some((e: any) => e.session === elenaSession && e.by === 'elena-vasquez'));
  assert.ok(
    events.some((e: any) => e.kind === 'session' && e.action === 'end' && e.session === elenaSession),
  );
  const subject = must(elena.git(['show', '-s', '--format=%s', handoffs[0].commit])).stdout;
  assert.ok(subject.includes(`session ${elenaSession}: handoff`));
});

test('several sessions handing off on one commit at once: every note is kept', async () => {
  const ids = Array.from(
    { length: 5 },
    () => json(aria, ['start', '-r', 'aria-blackwood', '--no-branch', '--shared']).id as string,
  );
  const runs = await Promise.all(
    ids.map((id) => aria.gcAsync(['handoff', '--session', id, '-', '--json'], { input: `summary of ${id}` })),
  );
  for (const r of runs) assert.is(r.code, 0, r.stderr);
  const head = must(aria.git(['rev-parse', 'HEAD'])).stdout.trim();
  const lines = must(aria.git(['notes', '--ref=consortium', 'show', head]))
    .stdout.split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  for (const id of ids)
    assert.ok(
      lines.some((e: any) => e.type === 'handoff' && e.session === id && e.summary === `summary of ${id}`),
      `the note of ${id} survived`,
    );
  assert.is(must(aria.git(['fsck', '--no-progress'])).code, 0);
  for (const id of ids) must(aria.gc(['end', '--session', id]));
});

test('a handoff never drops notes other machines pushed (notes fetched but not yet merged)', () => {
  sync(yuki);
  must(yuki.gc(['handoff', '--session', yukiSession, '-'], { input: 'latency budget agreed' }));
  const yukiHead = must(yuki.git(['rev-parse', 'HEAD'])).stdout.trim();
  must(elena.gc(['status', '--fetch']));
  const mine = json(elena, ['start', '-r', 'elena-vasquez', '--no-branch', '--shared']).id;
  must(elena.gc(['handoff', '--session', mine, '-'], { input: 'after the fetch' }));
  must(aria.git(['fetch', '-q', 'origin', '+refs/notes/consortium:refs/notes/check']));
  const note = must(aria.git(['notes', '--ref=check', 'show', yukiHead])).stdout;
  assert.ok(note.includes(yukiSession), "Yuki's note is still on the remote");
  must(elena.gc(['end', '--session', mine]));
});

/** Aria and Elena, up to date, each with a session on the default branch's tip (detached). */
function bothOnOneCommit() {
  sync(aria);
  sync(elena);
  const commit = must(aria.git(['rev-parse', 'origin/main'])).stdout.trim();
  must(aria.git(['checkout', '-q', '--detach', commit]));
  must(elena.git(['checkout', '-q', '--detach', commit]));
  const a = json(aria, ['start', '-r', 'aria-blackwood', '--no-branch', '--shared']).id;
  const e = json(elena, ['start', '-r', 'elena-vasquez', '--no-branch', '--shared']).id;
  return { commit, a, e };
}

test('two machines handing off on one commit: after sync both notes are on it, everywhere', () => {
  const { commit, a, e } = bothOnOneCommit();
  must(aria.gc(['handoff', '--session', a, '-'], { input: 'from aria' }));
  must(elena.gc(['handoff', '--session', e, '-'], { input: 'from elena' }));
  sync(aria);
  sync(elena);
  sync(aria);
  for (const machine of [aria, elena]) {
    const note = must(machine.git(['notes', '--ref=consortium', 'show', commit])).stdout;
    assert.ok(note.includes(a) && note.includes(e), `${machine.name} has both handoff notes`);
  }
  must(aria.gc(['end', '--session', a]));
  must(elena.gc(['end', '--session', e]));
});

test("a handoff reaches the remote at once when another machine's notes landed since the last fetch", () => {
  const { commit, a, e } = bothOnOneCommit();
  must(aria.gc(['handoff', '--session', a, '-'], { input: 'from aria, first' }));
  // Elena has not fetched since: the remote's notes moved past hers.
  const r = must(elena.gc(['handoff', '--session', e, '-'], { input: 'from elena, second' }));
  assert.not.match(r.stderr, /Not shared/, r.stderr);
  must(yuki.git(['fetch', '-q', 'origin', '+refs/notes/consortium:refs/notes/remote-now']));
  const note = must(yuki.git(['notes', '--ref=remote-now', 'show', commit])).stdout;
  assert.ok(note.includes(a) && note.includes(e), 'both handoff notes are on the remote, without a sync');
  must(aria.gc(['end', '--session', a]));
  must(elena.gc(['end', '--session', e]));
});

test('bad input: a missing summary file or a stray argument changes nothing (exit 2)', () => {
  const id = json(yuki, ['start', '-r', 'yuki-tanaka', '--no-branch', '--shared']).id;
  const before = must(yuki.git(['rev-parse', `refs/consortium/sessions/${id}`])).stdout;
  const missing = yuki.gc(['handoff', '--session', id, '--summary-file', 'nope.txt']);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /nope\.txt.*does not exist/);
  const stray = yuki.gc(['handoff', '--session', id, 'summary']);
  assert.is(stray.code, 2);
  const compact = yuki.gc(['compact', '--session', id, '--summary-file', 'nope.txt']);
  assert.is(compact.code, 2);
  assert.is(
    must(yuki.git(['rev-parse', `refs/consortium/sessions/${id}`])).stdout,
    before,
    'record untouched',
  );
  for (const r of [missing, stray, compact]) assert.not.match(r.stderr, /\n\s+at /);
});

test.run();
