import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openContext } from '../../src/context/context.js';
import { existingCommits, mergeTrees } from '../../src/git/merge-tree.js';
import { openRepo } from '../../src/git/repo.js';
import { fetchSessionBranches, mergeConflictsFor } from '../../src/services/predict.js';
import { consortium, json, type Machine, must, SAMPLE_CONFIG } from '../helpers/sandbox.js';

/**
 * Early warning: live sessions' committed work merged speculatively, before anyone merges.
 * Real clones of one bare remote; each researcher on a machine of their own.
 */
const { m, world, cleanup } = consortium(['elena', 'yuki', 'aria']);
const { elena, yuki, aria } = m;
test.after(cleanup);

const FILE = 'src/shared.py';

/** Changes one line (1-based) of a file in a machine's worktree. */
function editLine(machine: Machine, file: string, line: number, text: string) {
  const full = path.join(machine.dir, file);
  const lines = readFileSync(full, 'utf8').split('\n');
  lines[line - 1] = text;
  writeFileSync(full, lines.join('\n'));
}

/**
 * What the post-commit hook and background sharing do after a commit: refresh the session's
 * record (head, changed files) and share it with the remote. Done explicitly here, so these
 * tests do not depend on hooks or on timing.
 */
function publish(machine: Machine, session: string) {
  must(machine.gc(['heartbeat', '--session', session]));
  must(machine.gc(['share', `refs/consortium/sessions/${session}`]));
}

const merges = (status: { conflicts: any[] }) => status.conflicts.filter((c) => c.kind === 'merge');

/** Counts the git merge-tree processes a command starts, through git's own trace. */
function mergeTreeRuns(machine: Machine, args: string[]): { out: any; runs: number } {
  const trace = path.join(world.root, `trace-${machine.name}-${Date.now()}`);
  const out = json(machine, args, { env: { GIT_TRACE: trace } });
  const lines = existsSync(trace) ? readFileSync(trace, 'utf8').split('\n') : [];
  rmSync(trace, { force: true });
  return { out, runs: lines.filter((l) => /trace: built-in: git merge-tree /.test(l)).length };
}

let e: any;
let y: any;
let a: any;

test('a conflict is predicted before either side merges: status --fetch names the file and both sessions', () => {
  e = json(elena, ['start', '-r', 'elena-vasquez', '--intent', 'tighten the threshold']);
  y = json(yuki, ['start', '-r', 'yuki-tanaka', '--intent', 'faster path']);
  a = json(aria, ['start', '-r', 'aria-blackwood', '--intent', 'red team']);
  editLine(elena, FILE, 5, 'THRESHOLD = 0.05  # elena');
  elena.commit('Tighten the threshold');
  must(elena.git(['push', '-q', '-u', 'origin', 'HEAD']));
  publish(elena, e.id);

  // yuki changes the same line, commits, pushes nothing and runs no hook.
  editLine(yuki, FILE, 5, 'THRESHOLD = 0.2  # yuki');
  yuki.commit('Loosen the threshold for speed');
  const head = must(yuki.git(['rev-parse', 'HEAD'])).stdout;

  const status = json(yuki, ['status', '--fetch']);
  const found = merges(status);
  assert.is(found.length, 1, JSON.stringify(status.conflicts, null, 2));
  const c = found[0];
  assert.is(c.severity, 'medium');
  assert.equal(c.paths, [FILE]);
  assert.equal([...c.sessions].sort(), [e.id, y.id].sort());
  assert.equal([...c.researchers].sort(), ['elena-vasquez', 'yuki-tanaka']);
  assert.match(c.message, FILE);
  assert.match(c.message, /Agree who merges first/);
  // Predicted without touching anything: yuki's worktree, index and branch are as she left them.
  assert.is(must(yuki.git(['status', '--porcelain'])).stdout, '');
  assert.is(must(yuki.git(['rev-parse', 'HEAD'])).stdout, head);
  assert.not.ok(existsSync(path.join(yuki.dir, '.git', 'MERGE_HEAD')));
  // The text form says the same.
  const text = must(yuki.gc(['status'])).stdout;
  const line = text.split('\n').find((l) => /MEDIUM +merge/.test(l)) ?? '';
  assert.match(line, /MEDIUM +merge +src\/shared\.py +\S/, text);
  assert.match(line, /yuki-tanaka [0-9a-f]{6}/, 'whose sessions, by short id');
  assert.match(must(yuki.gc(['status', '--long'])).stdout, /MEDIUM merge: .*src\/shared\.py/);
});

test('a third session changing other lines of the same file gets no merge conflict', () => {
  editLine(aria, FILE, 10, 'def audit():  # aria');
  aria.commit('Add an audit hook');
  must(aria.git(['push', '-q', '-u', 'origin', 'HEAD']));
  publish(aria, a.id);
  const fromAria = json(aria, ['status', '--fetch']);
  assert.ok(
    fromAria.sessions.some((s: any) => s.id === e.id && s.changedFiles.includes(FILE)),
    'aria sees that elena changed the same file',
  );
  assert.equal(merges(fromAria), [], 'aria and elena changed different lines: no merge conflict');
  const fromYuki = json(yuki, ['status', '--fetch']);
  const found = merges(fromYuki);
  assert.is(found.length, 1, 'still only the elena-yuki conflict');
  assert.not.ok(found[0].sessions.includes(a.id));
});

test('a repeated status merges nothing new; a new commit is merged again', () => {
  const first = mergeTreeRuns(yuki, ['status']);
  assert.is(merges(first.out).length, 1);
  assert.is(first.runs, 0, 'every pair of tips was merged by an earlier status');
  assert.ok(existsSync(path.join(yuki.dir, '.git', 'consortium', 'merge-cache.json')));
  // yuki moves her change to another line: the pair of tips is new, the conflict goes away.
  editLine(yuki, FILE, 5, 'line 5');
  editLine(yuki, FILE, 7, 'FAST = True  # yuki');
  yuki.commit('Move the switch to its own line');
  const second = mergeTreeRuns(yuki, ['status']);
  assert.is(second.runs, 1, 'one merge-tree process for all the new pairs');
  assert.equal(merges(second.out), []);
  // Back to the conflicting change for the tests that follow.
  editLine(yuki, FILE, 5, 'THRESHOLD = 0.2  # yuki');
  yuki.commit('Loosen the threshold for speed, again');
  assert.is(merges(json(yuki, ['status'])).length, 1);
});

test("check --json in yuki's clone exits 1 with the merge conflict naming the file and elena's session", () => {
  const r = yuki.gc(['check', '--json']);
  assert.is(r.code, 1, r.stderr);
  const found = JSON.parse(r.stdout).conflicts.filter((c: any) => c.kind === 'merge');
  assert.is(found.length, 1, r.stdout);
  assert.equal(found[0].paths, [FILE]);
  assert.ok(found[0].sessions.includes(e.id));
  assert.ok(found[0].researchers.includes('elena-vasquez'));
});

test('a repeated check meets the same lines without merging again: a blocked push and its override run the line search once', () => {
  const traced = () => {
    const trace = path.join(world.root, `trace-check-${Date.now()}`);
    const r = yuki.gc(['check', '--json'], { env: { GIT_TRACE: trace } });
    const log = existsSync(trace) ? readFileSync(trace, 'utf8') : '';
    rmSync(trace, { force: true });
    const runs = (command: string) =>
      log.split('\n').filter((l) => l.includes(`trace: built-in: git ${command} `)).length;
    const merge = JSON.parse(r.stdout).conflicts.find((c: any) => c.kind === 'merge');
    return { code: r.code, lines: merge?.lines, searches: runs('merge-base') + runs('diff-tree') };
  };
  // A new tip of yuki's: nothing about it is known yet.
  editLine(yuki, FILE, 12, '# yuki was here');
  yuki.commit('A comment');
  const first = traced();
  assert.is(first.code, 1);
  assert.ok(first.lines?.[FILE]?.length, JSON.stringify(first.lines));
  assert.ok(first.searches > 0, 'the first check looked for the lines');
  const again = traced();
  assert.is(again.code, 1);
  assert.equal(again.lines, first.lines, 'the same lines');
  assert.is(again.searches, 0, 'and no merge-base or diff-tree for them');
});

/** Sets policy.merge in yuki's checked-out configuration (uncommitted, restored afterwards). */
function mergePolicy(value: 'warn' | 'block') {
  yuki.write('consortium.config.yaml', `${SAMPLE_CONFIG}policy:\n  merge: ${value}\n`);
}

test("with policy.merge: warn, yuki's push goes through with a warning naming the file", () => {
  must(yuki.gc(['init']));
  mergePolicy('warn');
  try {
    const push = yuki.git(['push', '-u', 'origin', 'HEAD']);
    assert.is(push.code, 0, push.stderr);
    assert.match(push.stderr, FILE);
    assert.match(push.stderr, /merge/i);
    const remote = must(yuki.git(['ls-remote', 'origin', `refs/heads/${y.branch}`])).stdout;
    assert.match(remote, must(yuki.git(['rev-parse', 'HEAD'])).stdout.trim());
  } finally {
    must(yuki.git(['checkout', '--', 'consortium.config.yaml']));
  }
});

test('with policy.merge: block, the push is refused and the remote keeps what it had', () => {
  editLine(yuki, FILE, 5, 'THRESHOLD = 0.3  # yuki, later');
  yuki.commit('Loosen it more');
  const before = must(yuki.git(['ls-remote', 'origin', `refs/heads/${y.branch}`])).stdout;
  mergePolicy('block');
  try {
    const push = yuki.git(['push', 'origin', 'HEAD']);
    assert.is.not(push.code, 0, 'the push is refused');
    assert.match(push.stderr, FILE);
    assert.match(push.stderr, e.id.slice(-6));
    assert.is(must(yuki.git(['ls-remote', 'origin', `refs/heads/${y.branch}`])).stdout, before);
  } finally {
    must(yuki.git(['checkout', '--', 'consortium.config.yaml']));
  }
});

test('two live sessions of different researchers that changed one protocol file: a protocol conflict, high', () => {
  // Different lines: no textual conflict, still a protocol conflict.
  editLine(elena, 'protocol/spec.md', 4, 'MUST sign every descriptor (elena)');
  elena.commit('Protocol: signatures');
  must(elena.git(['push', '-q', 'origin', 'HEAD']));
  publish(elena, e.id);
  editLine(aria, 'protocol/spec.md', 11, 'MUST log every refusal (aria)');
  aria.commit('Protocol: refusals are logged');
  must(aria.git(['push', '-q', 'origin', 'HEAD']));
  publish(aria, a.id);
  const status = json(yuki, ['status', '--fetch']);
  const protocol = status.conflicts.filter((c: any) => c.kind === 'protocol');
  assert.is(protocol.length, 1, JSON.stringify(status.conflicts, null, 2));
  assert.is(protocol[0].severity, 'high');
  assert.equal(protocol[0].paths, ['protocol/spec.md']);
  assert.equal([...protocol[0].sessions].sort(), [e.id, a.id].sort());
  assert.equal([...protocol[0].researchers].sort(), ['aria-blackwood', 'elena-vasquez']);
  assert.is(status.conflicts[0].kind, 'protocol', 'high severity comes first');
  assert.equal(
    merges(status).filter((c: any) => c.sessions.includes(a.id)),
    [],
    'the edits do not overlap textually',
  );
});

test('two live sessions sharing one worktree: a worktree conflict', () => {
  const shared = json(aria, ['start', '-r', 'yuki-tanaka', '--shared', '--intent', 'pairing with aria']);
  const status = json(aria, ['status']);
  const worktree = status.conflicts.filter((c: any) => c.kind === 'worktree');
  assert.is(worktree.length, 1, JSON.stringify(status.conflicts, null, 2));
  assert.is(worktree[0].severity, 'medium');
  assert.equal([...worktree[0].sessions].sort(), [a.id, shared.id].sort());
  assert.equal([...worktree[0].researchers].sort(), ['aria-blackwood', 'yuki-tanaka']);
  assert.equal(worktree[0].paths, [aria.dir]);
  must(aria.gc(['end', '--session', shared.id]));
  assert.equal(
    json(aria, ['status']).conflicts.filter((c: any) => c.kind === 'worktree'),
    [],
    'ended, the conflict is gone',
  );
});

test("the gate's merge check: my tip against live sessions (mergeConflictsFor), after fetching their newest pushed work", async () => {
  // In-process, as the pre-push gate and check call it, on yuki's real clone.
  process.env.CONSORTIUM_HOST = 'yuki';
  const ctx = await openContext(yuki.dir);
  const tip = must(yuki.git(['rev-parse', 'HEAD'])).stdout.trim();
  const others = ctx.sessions().sessions.filter((s) => s.state === 'active' && s.id !== y.id);
  const mine = { tip, researcher: 'yuki-tanaka', branch: y.branch, session: null };
  const before = mergeConflictsFor(ctx, mine, others);
  assert.is(before.length, 1, 'no session of mine: still the conflict with elena');
  assert.equal(before[0]!.sessions, [e.id]);
  assert.equal(before[0]!.researchers, ['yuki-tanaka', 'elena-vasquez']);
  assert.equal(before[0]!.paths, [FILE]);
  // elena gives the line back and pushes; yuki has not fetched it.
  editLine(elena, FILE, 5, 'line 5');
  elena.commit('Leave the threshold to yuki');
  must(elena.git(['push', '-q', 'origin', 'HEAD']));
  assert.is(mergeConflictsFor(ctx, mine, others).length, 1, 'what is known here: the old tip');
  assert.ok((await fetchSessionBranches(ctx, others, 5000)).ok);
  assert.equal(mergeConflictsFor(ctx, mine, others), [], 'her newest pushed work merges cleanly with mine');
});

test('one pair git cannot merge does not hide the others; unknown commits are never handed to merge-tree', () => {
  const repo = openRepo(aria.dir);
  const rev = (r: string) => must(aria.git(['rev-parse', r])).stdout.trim();
  // A commit with no history in common with the rest.
  const tree = must(aria.git(['mktree'], { input: '' })).stdout.trim();
  const orphan = must(aria.git(['commit-tree', tree, '-m', 'unrelated'])).stdout.trim();
  const [mine, hers, base] = [rev('HEAD'), rev(`origin/${e.branch}`), rev('origin/main')];
  const outcomes = mergeTrees(repo, [
    [mine, hers],
    [orphan, mine],
    [base, hers],
  ]);
  assert.is(outcomes.length, 3);
  assert.is(outcomes[0]!.status, 'clean');
  assert.is(outcomes[1]!.status, 'failed');
  assert.match((outcomes[1] as { detail: string }).detail, /unrelated histories/);
  assert.is(outcomes[2]!.status, 'clean', 'the pair after the failed one was still merged');
  const missing = 'f'.repeat(40);
  assert.equal(
    [...existingCommits(repo, [mine, missing, tree, 'HEAD'])],
    [mine],
    'trees and names are not commits',
  );
});

/** A git push of yuki's through git's trace: its outcome and how many times it asked the remote for refs. */
function tracedPush(env: Record<string, string> = {}) {
  const trace = path.join(world.root, `trace-push-${Date.now()}`);
  const started = Date.now();
  const push = yuki.git(['push', 'origin', 'HEAD'], { env: { GIT_TRACE: trace, ...env } });
  const seconds = (Date.now() - started) / 1000;
  const log = existsSync(trace) ? readFileSync(trace, 'utf8') : '';
  rmSync(trace, { force: true });
  const fetches = log.split('\n').filter((l) => /trace: built-in: git upload-pack /.test(l)).length;
  return { push, seconds, fetches };
}

test("a push that meets another session's newest pushed work asks the remote once: her record and her branch come in one fetch", () => {
  // Elena pushes more work on the file; yuki has neither her new record nor her new commit.
  editLine(elena, FILE, 8, 'WINDOW = 64  # elena');
  elena.commit('Widen the window');
  must(elena.git(['push', '-q', 'origin', 'HEAD']));
  publish(elena, e.id);
  const tip = must(elena.git(['rev-parse', 'HEAD'])).stdout.trim();
  editLine(yuki, FILE, 5, 'THRESHOLD = 0.4  # yuki, later still');
  yuki.commit('Loosen it once more');
  mergePolicy('block');
  try {
    const { push, fetches } = tracedPush();
    assert.is(push.code, 1, push.stderr);
    assert.match(push.stderr, FILE);
    assert.match(push.stderr, e.id.slice(-6));
    assert.is(
      must(yuki.git(['rev-parse', `refs/remotes/origin/${e.branch}`])).stdout.trim(),
      tip,
      "elena's newest commit is here",
    );
    // The coordination state with the live sessions' branches, and nothing fetched again
    // for the merge or for the line index that follows the check.
    assert.is(fetches, 1, 'one fetch');
  } finally {
    must(yuki.git(['checkout', '--', 'consortium.config.yaml']));
  }
});

test("when the others' branches do not come within the gate's bound, the records alone do: the push is checked, not taken for offline", () => {
  // A remote that answers the first fetch too late (a large push of someone's, a slow link),
  // and every later one at once.
  const late = path.join(world.root, 'late-upload-pack');
  const marker = path.join(world.root, 'late-upload-pack.done');
  writeFileSync(
    late,
    `#!/bin/sh\nif [ ! -e '${marker}' ]; then : > '${marker}'; sleep 5; fi\nexec git-upload-pack "$@"\n`,
    { mode: 0o755 },
  );
  editLine(elena, FILE, 9, 'RETRIES = 5  # elena');
  elena.commit('More retries');
  must(elena.git(['push', '-q', 'origin', 'HEAD']));
  publish(elena, e.id);
  mergePolicy('block');
  must(yuki.git(['config', 'remote.origin.uploadpack', late]));
  try {
    const { push, seconds, fetches } = tracedPush();
    assert.ok(existsSync(marker), 'the first fetch met the slow remote');
    assert.is(push.code, 1, push.stderr);
    assert.not.match(push.stderr, /could not read the coordination state/);
    assert.match(push.stderr, FILE);
    assert.match(push.stderr, e.id.slice(-6));
    assert.ok(fetches >= 2, `asked again (${fetches})`);
    assert.ok(seconds < 10, `within the gate's bound (${seconds}s)`);
  } finally {
    must(yuki.git(['config', '--unset', 'remote.origin.uploadpack']));
    must(yuki.git(['checkout', '--', 'consortium.config.yaml']));
  }
});

test.run();
