import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { consortium, json, must } from '../helpers/sandbox.js';

/**
 * A day as a new user lives it, through the built CLI in real clones: the traps that would cost
 * a researcher their protection, their notes or their sense of who they are.
 */
const { m, world, cleanup } = consortium(['elena', 'yuki', 'aria']);
const { elena, yuki, aria } = m;
test.before(() => {
  for (const x of [elena, yuki]) must(x.gc(['init']));
});
test.after(cleanup);

const YUKIS = 'consortium/yuki-tanaka';

test("who you are does not change with the folder you stand in, inside your own session's clone", () => {
  const session = json(elena, ['start', '-r', 'elena-vasquez']).id;
  const orient = must(elena.gc(['orient'], { cwd: YUKIS })).stdout;
  assert.match(orient, `You are Dr. Elena Vasquez (elena-vasquez) (known from your session ${session})`);
  assert.match(
    must(elena.gc(['status'], { cwd: YUKIS })).stdout,
    'You are elena-vasquez (known from your session',
  );
  const lease = json(elena, ['lease', 'acquire', 'notes.md'], { cwd: YUKIS });
  assert.is(lease.session, session, 'and the lease goes to that same session');
  assert.equal(
    lease.leases.map((l: any) => l.pattern),
    [`${YUKIS}/notes.md`],
  );
  must(elena.gc(['lease', 'release', '--all']));
});

test('lease paths: from the current folder as git reads them, :/ from the top, and a path to nothing refused', () => {
  const from = (args: string[]) => elena.gc(['lease', 'acquire', ...args], { cwd: YUKIS });
  const slip = from(['TCP_SPECIFICATION.md']);
  assert.is(slip.code, 2, slip.stderr);
  assert.match(slip.stderr, `would lease ${YUKIS}/TCP_SPECIFICATION.md, which matches no tracked file`);
  assert.match(slip.stderr, 'From the top it matches: write :/TCP_SPECIFICATION.md.');
  assert.equal(json(elena, ['lease', 'list']).leases, [], 'nothing was leased');

  const top = json(elena, ['lease', 'acquire', ':/TCP_SPECIFICATION.md'], { cwd: YUKIS });
  assert.equal(
    top.leases.map((l: any) => l.pattern),
    ['TCP_SPECIFICATION.md'],
  );
  const nothing = from(['results/draft.csv']);
  assert.is(nothing.code, 2);
  assert.match(nothing.stderr, '--allow-missing');
  assert.not.match(nothing.stderr, 'From the top', 'nothing to suggest');
  const before = json(elena, ['lease', 'acquire', 'results/draft.csv', '--allow-missing'], { cwd: YUKIS });
  assert.equal(
    before.leases.map((l: any) => l.pattern),
    [`${YUKIS}/results/draft.csv`],
  );
  assert.match(must(elena.gc(['help', 'lease'])).stdout, ':/PATH reads it from the top');
  must(elena.gc(['lease', 'release', '--all']));
  must(elena.gc(['end']));
});

test('a new session starts from the default branch, not from the unmerged branch of the last one', () => {
  const first = json(yuki, ['start', '-r', 'yuki-tanaka']);
  yuki.commit('half done', { 'src/shared.py': '# shared code\n\nyuki, unfinished\n' });
  const unmerged = must(yuki.git(['rev-parse', 'HEAD'])).stdout.trim();
  must(yuki.gc(['compact', '--next', 'finish the timer'])); // writes the handoff and ends the session

  const next = json(yuki, ['start', '-r', 'yuki-tanaka']);
  assert.is.not(next.branch, first.branch);
  assert.is(
    must(yuki.git(['rev-parse', 'HEAD'])).stdout.trim(),
    must(yuki.git(['rev-parse', 'origin/main'])).stdout.trim(),
  );
  assert.is(yuki.git(['merge-base', '--is-ancestor', unmerged, 'HEAD']).code, 1, 'the old work is not in it');
  const mine = json(yuki, ['status']).sessions.find((x: any) => x.id === next.id);
  assert.equal(mine.changedFiles, [], 'it shows no files it never touched');
  assert.match(must(yuki.gc(['help', 'start'])).stdout, '--from REV');
  must(yuki.gc(['end', '--session', next.id]));

  // --from says otherwise, on purpose.
  const onTop = json(yuki, ['start', '-r', 'yuki-tanaka', '--from', first.branch]);
  assert.is(yuki.git(['merge-base', '--is-ancestor', unmerged, 'HEAD']).code, 0);
  must(yuki.gc(['end', '--session', onTop.id]));
  const bad = yuki.gc(['start', '-r', 'yuki-tanaka', '--from=--upload-pack=evil']);
  assert.is(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, 'names no commit');
  // --shared alone stays on this branch: a --from there would be ignored, so it is refused.
  const before = json(yuki, ['status', '--all']).sessions.length;
  const shared = yuki.gc(['start', '-r', 'yuki-tanaka', '--shared', '--from=no-such-rev']);
  assert.is(shared.code, 2, shared.stderr);
  assert.match(shared.stderr, '--shared alone stays on the branch');
  assert.is(json(yuki, ['status', '--all']).sessions.length, before, 'no session was started');
});

test('start --worktree from a workspace folder puts the worktree beside the main one, never inside', () => {
  const s = json(yuki, ['start', '-r', 'yuki-tanaka', '--worktree'], { cwd: YUKIS });
  const beside = path.join(path.dirname(yuki.dir), `${path.basename(yuki.dir)}-${s.branch}`);
  assert.is(s.worktree, beside);
  assert.is(must(yuki.git(['status', '--porcelain'])).stdout, '', 'nothing new in the main worktree');
  assert.is(
    must(yuki.git(['rev-parse', 'HEAD'], { cwd: beside })).stdout.trim(),
    must(yuki.git(['rev-parse', 'origin/main'])).stdout.trim(),
  );
  must(yuki.gc(['end', '--session', s.id]));
  // A folder that is not empty is refused before anything happens, on the remote too.
  const used = path.join(world.root, 'used-folder');
  mkdirSync(used);
  writeFileSync(path.join(used, 'keep.txt'), 'mine\n');
  const reserved = () => must(yuki.git(['ls-remote', 'origin', 'refs/consortium-reserved/*'])).stdout;
  const before = reserved();
  const refused = yuki.gc(['start', '-r', 'yuki-tanaka', '--worktree', used]);
  assert.is(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, 'already exists: give --worktree a new folder');
  assert.is(reserved(), before, 'no branch name was reserved');
});

test('a clone without active hooks is told so by start, status and sync, with the command that fixes it', () => {
  const warning = "the toolkit's git hooks are not active in this clone";
  for (const args of [['start', '-r', 'aria-blackwood', '--json'], ['status'], ['sync']]) {
    const r = aria.gc(args);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, warning, args[0]);
    assert.match(r.stderr, 'Run git consortium init once in this clone', args[0]);
    assert.is(r.stderr.split('\n').filter((l) => l.includes(warning)).length, 1, 'in one line');
  }
  must(aria.gc(['init']));
  for (const args of [['status'], ['sync']]) assert.not.match(must(aria.gc(args)).stderr, warning, args[0]);
  // A hooks path changed after init switches the protection off as surely.
  must(aria.git(['config', 'core.hooksPath', '.git/hooks']));
  assert.match(aria.gc(['status']).stderr, warning);
  must(aria.gc(['init']));
  must(aria.gc(['end']));
});

test('uninstall with live sessions says how many, and what will and will not happen to them', () => {
  const s = json(aria, ['start', '-r', 'aria-blackwood']);
  const r = must(aria.gc(['uninstall']));
  assert.match(r.stdout, `1 session is still live in this clone (aria-blackwood): ${s.id}.`);
  assert.match(r.stdout, 'They are not ended');
  assert.match(r.stdout, 'no hook here heartbeats them');
  assert.is(
    json(aria, ['status']).sessions.find((x: any) => x.id === s.id)?.state,
    'active',
    'and it is not ended',
  );
  must(aria.gc(['init']));
  const again = JSON.parse(must(aria.gc(['uninstall', '--json'])).stdout);
  assert.equal(
    again.liveSessions.map((x: any) => x.id),
    [s.id],
  );
  must(aria.gc(['init']));
  must(aria.gc(['end', '--session', s.id]));
});

test('handoffs build on each other: compact after handoff keeps the summary, and says what it kept', () => {
  const s = json(elena, ['start', '-r', 'elena-vasquez']);
  must(
    elena.gc(['handoff', '--summary-file', '-', '--next', 'rerun the sweep with seed 7'], {
      input: 'Loss sweep done for windows 1 to 8; 16 diverges.\n',
    }),
  );
  const compacted = must(elena.gc(['compact', '--next', 'look at window 16 first'])).stdout;
  assert.match(compacted, 'Loss sweep done for windows 1 to 8; 16 diverges.');
  assert.not.match(compacted, 'No summary was given.');
  assert.match(compacted, '- look at window 16 first');
  assert.not.match(compacted, 'rerun the sweep with seed 7', 'the new steps replace the old');
  assert.match(compacted, `The summary is kept from the handoff of session ${s.id}`);
  assert.match(compacted, 'the next steps are new');
  const shown = json(elena, ['handoff', 'show', '-r', 'elena-vasquez']).handoff;
  assert.is(shown.session, s.id);
  assert.match(shown.markdown, 'Loss sweep done');
});

test('what changed for me: yuki hears at her next sync, orient and SessionStart who pushed over her lease, and why', () => {
  const ys = json(yuki, ['start', '-r', 'yuki-tanaka']);
  must(yuki.git(['push', '-q', '-u', 'origin', 'HEAD']));
  must(yuki.gc(['lease', 'acquire', 'protocol/spec.md', '--reason', 'rewriting section 2']));
  must(yuki.gc(['sync'])); // her baseline: from here on, news is what is new

  // Elena pushes over the lease, says why, then shares it with her sync.
  const es = json(elena, ['start', '-r', 'elena-vasquez']);
  elena.commit('fix a typo', { 'protocol/spec.md': '# Protocol\n\nfixed\n' });
  const push = elena.git(['push', '-q', '-u', 'origin', 'HEAD'], {
    env: { CONSORTIUM_OVERRIDE: 'typo only, agreed at the meeting' },
  });
  assert.is(push.code, 0, push.stderr);
  must(
    elena.gc(['handoff', '--summary-file', '-', '--next', 'ask Yuki Tanaka to review the typo fix'], {
      input: 'Typo in the protocol fixed.\n',
    }),
  );
  must(elena.gc(['sync']));

  const text = must(yuki.gc(['sync'])).stdout;
  assert.match(text, 'For you (yuki-tanaka):');
  assert.match(text, 'elena-vasquez pushed');
  assert.match(text, 'over your lease on protocol/spec.md');
  assert.match(text, '"typo only, agreed at the meeting"');
  assert.match(
    text,
    `elena-vasquez's handoff (session ${es.id}) names you: "ask Yuki Tanaka to review the typo fix"`,
  );
  assert.not.match(text, 'Nothing changed for you');
  // Told once: the next sync has nothing new of it.
  assert.not.match(must(yuki.gc(['sync'])).stdout, 'pushed');

  // Another clone of yuki's, with no look yet, hears it at SessionStart and at its first orient.
  must(aria.gc(['status', '--fetch']));
  const event = JSON.stringify({
    session_id: 'conv-everyday',
    transcript_path: '/dev/null',
    cwd: aria.dir,
    hook_event_name: 'SessionStart',
    source: 'startup',
  });
  const started = must(
    aria.gc(['claude-hook', 'SessionStart'], { input: event, env: { CONSORTIUM_RESEARCHER: 'yuki-tanaka' } }),
  );
  assert.match(
    JSON.parse(started.stdout).hookSpecificOutput.additionalContext,
    'over your lease on protocol/spec.md',
  );
  // SessionStart does not count as a look: orient, after it, still tells.
  const json2 = JSON.parse(must(aria.gc(['orient', '-r', 'yuki-tanaka', '--json'])).stdout);
  assert.ok(
    json2.alerts.some((a: any) => a.kind === 'override' && a.reason === 'typo only, agreed at the meeting'),
  );
  must(aria.gc(['end']));
  // Elena is not told of her own override.
  assert.not.match(must(elena.gc(['sync'])).stdout, 'For you');
  must(elena.gc(['end', '--session', es.id]));
  must(yuki.gc(['end', '--session', ys.id]));
});

test('what changed for me: a forced lease that took my pattern, and sessions that ended', () => {
  const ys = json(yuki, ['start', '-r', 'yuki-tanaka']);
  must(yuki.gc(['lease', 'acquire', 'src/shared.py']));
  const es = json(elena, ['start', '-r', 'elena-vasquez']);
  must(yuki.gc(['orient'])); // her look
  must(
    elena.gc(['lease', 'acquire', 'src/shared.py', '--force', '--reason', 'release blocker, yuki is away']),
  );
  must(elena.gc(['end', '--session', es.id]));
  must(elena.gc(['sync']));
  must(yuki.gc(['status', '--fetch']));
  const orient = must(yuki.gc(['orient'])).stdout;
  assert.match(orient, 'lease: elena-vasquez broke your lease on src/shared.py');
  assert.match(orient, '"release blocker, yuki is away"');
  assert.match(orient, `session: elena-vasquez's session ${es.id}`);
  assert.match(orient, 'ended');
  assert.not.match(must(yuki.gc(['orient'])).stdout, 'broke your lease', 'told once');
  must(yuki.gc(['end', '--session', ys.id]));
});

test('what changed for me: a session whose work was merged into the default branch', () => {
  const es = json(elena, ['start', '-r', 'elena-vasquez']);
  elena.commit('loss sweep results', { 'consortium/elena-vasquez/results.md': '# Results\n' });
  must(elena.git(['push', '-q', '-u', 'origin', 'HEAD']));
  must(yuki.gc(['status', '--fetch']));
  must(yuki.gc(['orient', '-r', 'yuki-tanaka'])); // her look, with the session active
  must(elena.git(['push', '-q', 'origin', 'HEAD:main']));
  must(elena.gc(['sync'])); // marks it merged and shares that
  must(yuki.gc(['status', '--fetch']));
  const orient = must(yuki.gc(['orient', '-r', 'yuki-tanaka'])).stdout;
  assert.match(orient, `session: elena-vasquez's session ${es.id}`);
  assert.match(orient, 'was merged: its work is on the default branch');
});

test('two starts in the same second on two machines never share a branch: the remote decides', async () => {
  const clock = { CONSORTIUM_CLOCK: '2026-12-01T11:27:37.000Z' };
  const [a, b] = await Promise.all(
    [yuki, aria].map((x) => x.gcAsync(['start', '-r', 'elena-vasquez', '--json'], { env: clock })),
  );
  assert.is(a!.code, 0, a!.stderr);
  assert.is(b!.code, 0, b!.stderr);
  const branches = [JSON.parse(a!.stdout).branch, JSON.parse(b!.stdout).branch];
  assert.is.not(branches[0], branches[1]);
  for (const branch of branches)
    assert.match(branch, /^claude-elena-vasquez-20261201-112737(-[a-z0-9]{1,8})?$/);
  // Each machine's work lands on its own branch.
  for (const [i, x] of [yuki, aria].entries()) {
    x.commit(`work ${i}`, { [`consortium/elena-vasquez/from-${x.name}.md`]: `${i}\n` });
    const pushed = x.git(['push', '-q', '-u', 'origin', 'HEAD']);
    assert.is(pushed.code, 0, pushed.stderr);
  }
  for (const x of [yuki, aria]) must(x.gc(['end']));
});

test.run();
