import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Machine, Result, RunOptions } from '../../src/demo/world.js';
import { consortium, json, must, SAMPLE_CONFIG, SAMPLE_FILES } from '../helpers/sandbox.js';

/**
 * The gate on the server (SPEC section 13, issue 15) through real pushes over file:// to a
 * bare repository with `server install`: what no client hook can be trusted to stop is
 * refused there, naming the rule, and ordinary work passes untouched. The server knows the
 * pusher as gitolite tells it (GL_USER); over file://, receive-pack runs with the pusher's
 * environment, so each researcher's commands here carry their GL_USER.
 */
const CONFIG = `${SAMPLE_CONFIG}sessions:\n  archiveAfter: 1d\nserver:\n  identity: gitolite\n`;
const { world, m, cleanup } = consortium(['elena', 'yuki', 'plain'], {
  ...SAMPLE_FILES,
  'consortium.config.yaml': CONFIG,
});
test.after(cleanup);

/** A machine's commands as one researcher, known to the server by GL_USER. */
const as = (machine: Machine, id: string) => {
  const env = (o: RunOptions) => ({ ...o, env: { GL_USER: id, ...o.env } });
  return {
    machine,
    gc: (args: string[], o: RunOptions = {}) => machine.gc(args, env(o)),
    git: (args: string[], o: RunOptions = {}) => machine.git(args, env(o)),
    json: (args: string[], o: RunOptions = {}) => json(machine, args, env(o)),
  };
};
const elena = as(m.elena, 'elena-vasquez');
const yuki = as(m.yuki, 'yuki-tanaka');
/** A clone that never ran init: no client hook at all. */
const plain = as(m.plain, 'yuki-tanaka');
const onRemote = (ref: string) =>
  must(m.elena.git(['--git-dir', world.remote, 'for-each-ref', '--format=%(objectname)', ref])).stdout.trim();
const refusedBy = (r: Result, rule: RegExp | string) => {
  assert.is(r.code, 1, `refused: ${r.stderr}`);
  assert.match(r.stderr, 'git-consortium server');
  assert.match(r.stderr, rule);
  assert.match(r.stderr, /\[remote rejected\].*pre-receive hook declined/);
};
let elenaSession = '';
let elenaBranch = '';

test.before(() => {
  for (const x of [elena, yuki]) must(x.gc(['init']));
  for (const [x, id] of [
    [elena, 'elena-vasquez'],
    [yuki, 'yuki-tanaka'],
    [plain, 'yuki-tanaka'],
  ] as const)
    must(x.git(['config', 'consortium.researcher', id]));
});

test('server install refuses without Node.js and installs nothing; with it, doctor says what is enforced', () => {
  const hook = path.join(world.remote, 'hooks', 'pre-receive');
  const missing = elena.gc(['server', 'install', '--repo', world.remote, '--node', '/nonexistent/node']);
  assert.is(missing.code, 3, missing.stderr);
  assert.match(
    missing.stderr,
    /needs Node\.js 20 or later on the server.*\/nonexistent\/node.*Nothing was installed/,
  );
  assert.not.match(missing.stderr, /\n\s+at /, 'no stack trace');
  assert.not.ok(existsSync(hook));
  const notBare = elena.gc(['server', 'install']);
  assert.is(notBare.code, 3);
  assert.match(notBare.stderr, /is not a bare repository/);

  // A hook the repository had already keeps running, first.
  writeFileSync(hook, '#!/bin/sh\ncat > /dev/null\necho "the host\'s own pre-receive ran" >&2\n');
  chmodSync(hook, 0o755);
  const installed = must(elena.gc(['server', 'install', '--repo', world.remote]));
  assert.match(installed.stdout, /runs the pre-receive hook that was there first/);
  assert.is(
    must(elena.git(['--git-dir', world.remote, 'config', 'receive.advertisePushOptions'])).stdout.trim(),
    'true',
  );
  const doctor = must(elena.gc(['server', 'doctor', '--repo', world.remote]));
  assert.match(doctor.stdout, /ok {2}pre-receive hook/);
  assert.match(
    doctor.stdout,
    /ownership of sessions, leases, gate changes and unlocks \(server\.identity gitolite/,
  );
  const report = elena.json(['server', 'doctor', '--repo', world.remote]);
  assert.ok(report.ok);
  // Ordinary work still goes through the chained hook and the gate.
  const s = elena.json(['start', '-r', 'elena-vasquez', '--intent', 'protocol statistics']);
  elenaSession = s.id;
  elenaBranch = s.branch;
  must(elena.gc(['lease', 'acquire', 'protocol/spec.md']));
  m.elena.commit('Statistics section', { 'consortium/elena-vasquez/stats.md': 'power analysis\n' });
  const pushed = elena.git(['push', '-u', 'origin', 'HEAD']);
  assert.is(pushed.code, 0, pushed.stderr);
  assert.match(pushed.stderr, "the host's own pre-receive ran");
  assert.is(onRemote(`refs/heads/${s.branch}`), must(m.elena.git(['rev-parse', 'HEAD'])).stdout.trim());
});

test('a notes ref is created only as a commit of notes: a tag there is refused', () => {
  const fresh = path.join(world.root, 'fresh.git');
  must(plain.git(['init', '-q', '--bare', fresh]));
  must(elena.gc(['server', 'install', '--repo', fresh]));
  must(m.plain.git(['push', '-q', fresh, 'origin/main:refs/heads/main']));
  const tag = must(
    m.plain.git(['mktag'], {
      input: `object ${must(m.plain.git(['rev-parse', 'origin/main'])).stdout.trim()}\ntype commit\ntag x\ntagger t <t@e.org> 1700000000 +0000\n\nx\n`,
    }),
  ).stdout.trim();
  refusedBy(plain.git(['push', fresh, `${tag}:refs/notes/consortium`]), /rule: not a record\)/);
});

test("git push --no-verify of another researcher's leased file is refused by the server, naming the lease", () => {
  must(yuki.git(['checkout', '-q', '-b', 'yuki-latency']));
  m.yuki.commit('Latency budget in the protocol', { 'protocol/spec.md': '# Protocol\n\nlatency 5ms\n' });
  const r = yuki.git(['push', '--no-verify', 'origin', 'HEAD']);
  refusedBy(r, /push blocked.*\n.*lease protocol\/spec\.md: held by elena-vasquez/);
  assert.is(onRemote('refs/heads/yuki-latency'), '');
  // No recipe an agent could follow: where a person finds the way, and that an agent stops.
  assert.not.match(r.stderr, /consortium\.override=/);
  assert.match(r.stderr, /an agent stops here and asks a person/);
});

test('the same push from a clone that never ran init is refused the same way', () => {
  must(plain.git(['checkout', '-q', '-b', 'plain-latency']));
  m.plain.commit('Latency budget, from a plain clone', { 'protocol/spec.md': '# Protocol\n\nlatency 4ms\n' });
  assert.not.ok(existsSync(path.join(m.plain.dir, '.husky', '_')), 'no hooks in this clone');
  refusedBy(plain.git(['push', 'origin', 'HEAD']), /lease protocol\/spec\.md: held by elena-vasquez/);
  assert.is(onRemote('refs/heads/plain-latency'), '');
});

test('an override by push option lands, and is recorded by the server with who and why', () => {
  const r = plain.git(['push', '-o', 'consortium.override=the review deadline is today', 'origin', 'HEAD']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /git-consortium server: pushing despite 1 conflict.*override recorded/);
  assert.match(r.stderr, /recorded the override of refs\/heads\/plain-latency by yuki-tanaka/);
  const tip = must(m.plain.git(['rev-parse', 'HEAD'])).stdout.trim();
  assert.is(onRemote('refs/heads/plain-latency'), tip);
  must(yuki.gc(['sync']));
  const overrides = yuki.json(['audit']).events.filter((e: any) => e.kind === 'override');
  const mine = overrides.find((e: any) => e.commit === tip);
  assert.ok(mine, JSON.stringify(overrides));
  assert.is(mine.by, 'yuki-tanaka');
  assert.is(mine.landed, true);
  assert.match(JSON.stringify(mine), 'the review deadline is today');
});

test("a person overriding through the clients' gate (CONSORTIUM_OVERRIDE) lands, and the server marks it landed", () => {
  m.yuki.commit('Latency budget, again', { 'protocol/spec.md': '# Protocol\n\nlatency 3ms\n' });
  const r = yuki.git(['push', 'origin', 'HEAD'], {
    env: { CONSORTIUM_OVERRIDE: 'agreed with Elena by phone' },
  });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /git-consortium: pushing despite/);
  assert.match(r.stderr, /git-consortium server: pushing despite .*agreed with Elena by phone/);
  const tip = must(m.yuki.git(['rev-parse', 'HEAD'])).stdout.trim();
  assert.is(onRemote('refs/heads/yuki-latency'), tip);
  const notes = must(
    m.elena.git(['--git-dir', world.remote, 'notes', '--ref=consortium', 'show', tip]),
  ).stdout;
  assert.match(notes, /"type":"landed".*"landed":true.*"recordedBy":"server"/);
});

test("as on a researcher's machine (background work allowed), the override goes ahead of the push and the rest follows it", async () => {
  m.yuki.commit('Latency budget, once more', { 'protocol/spec.md': '# Protocol\n\nlatency 4ms\n' });
  const r = yuki.git(['push', 'origin', 'HEAD'], {
    env: { CONSORTIUM_OVERRIDE: 'agreed with Elena again', CONSORTIUM_NO_BACKGROUND: '' },
  });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /git-consortium server: pushing despite .*agreed with Elena again/);
  const tip = must(m.yuki.git(['rev-parse', 'HEAD'])).stdout.trim();
  assert.is(onRemote('refs/heads/yuki-latency'), tip);
  const onServer = () =>
    m.elena.git(['--git-dir', world.remote, 'notes', '--ref=consortium', 'show', tip]).stdout;
  assert.match(onServer(), /"type":"override".*"reason":"agreed with Elena again"/, 'shared before the push');
  let notes = '';
  for (let i = 0; i < 100 && !notes.includes('"provenance"'); i++) {
    await new Promise((done) => setTimeout(done, 100));
    notes = onServer();
  }
  assert.match(notes, /"type":"provenance"/, "the detached recorder shared the push's provenance");
  assert.match(notes, /"type":"landed".*"landed":true/);
});

/** The record a coordination ref holds on the server, as its JSON. */
const recordOnServer = (ref: string) =>
  JSON.parse(must(m.elena.git(['--git-dir', world.remote, 'log', '-1', '--format=%b', ref])).stdout);

/** A record commit as the toolkit writes them: a subject, a blank line, one JSON document. */
const record = (x: Machine, body: unknown, parents: string[] = []) =>
  must(
    x.git(['commit-tree', '4b825dc642cb6eb9a060e54bf8d69288fbee4904', ...parents.flatMap((p) => ['-p', p])], {
      input: `forged\n\n${typeof body === 'string' ? body : JSON.stringify(body)}\n`,
    }),
  ).stdout.trim();

test('a forged session record is refused: one that does not read, one in a newer format, one in another name', () => {
  must(plain.git(['hash-object', '-w', '-t', 'tree', '/dev/null']));
  const garbage = record(m.plain, '{"not": "a session"');
  refusedBy(
    plain.git(['push', 'origin', `${garbage}:refs/consortium/sessions/20261201-000000000-abcdef`]),
    /refused refs\/consortium\/sessions\/20261201-000000000-abcdef \(rule: unreadable record\)/,
  );
  const theirs = recordOnServer(`refs/consortium/sessions/${elenaSession}`);
  must(plain.git(['fetch', '-q', 'origin', `refs/consortium/sessions/${elenaSession}`]));
  const newer = record(m.plain, { ...theirs, format: 99, seq: theirs.seq + 1 }, [
    onRemote(`refs/consortium/sessions/${elenaSession}`),
  ]);
  refusedBy(
    plain.git(['push', 'origin', `${newer}:refs/consortium/sessions/${elenaSession}`]),
    /rule: newer format\): its record is in format 99.*the server's toolkit must be upgraded first/,
  );
  const taken = record(m.plain, { ...theirs, seq: theirs.seq + 1, intent: 'taken over' }, [
    onRemote(`refs/consortium/sessions/${elenaSession}`),
  ]);
  refusedBy(
    plain.git(['push', 'origin', `${taken}:refs/consortium/sessions/${elenaSession}`]),
    /rule: not yours\).*elena-vasquez's session, and this push is yuki-tanaka's/,
  );
  const kept = recordOnServer(`refs/consortium/sessions/${elenaSession}`);
  assert.equal(kept, theirs, "elena's record on the server is as she wrote it");
});

test('a rewrite of the lease table is refused; so is a table that breaks exclusivity', () => {
  must(plain.git(['fetch', '-q', 'origin', '+refs/consortium/leases:refs/theirs/leases']));
  const current = must(m.plain.git(['rev-parse', 'refs/theirs/leases'])).stdout.trim();
  const table = JSON.parse(must(m.plain.git(['log', '-1', '--format=%b', current])).stdout);
  assert.ok(table.leases.some((l: any) => l.pattern === 'protocol/spec.md'));
  const emptied = record(m.plain, { ...table, seq: table.seq + 1, leases: [] });
  refusedBy(
    plain.git(['push', '--force', 'origin', `${emptied}:refs/consortium/leases`]),
    /refused refs\/consortium\/leases \(rule: not a fast-forward\)/,
  );
  const lease = table.leases[0];
  const doubled = record(
    m.plain,
    {
      ...table,
      seq: table.seq + 1,
      leases: [
        ...table.leases,
        { ...lease, pattern: 'protocol/**', session: 'other', researcher: 'yuki-tanaka' },
      ],
    },
    [current],
  );
  refusedBy(
    plain.git(['push', 'origin', `${doubled}:refs/consortium/leases`]),
    /rule: lease exclusive\).*protocol\/\*\*.*beside protocol\/spec\.md, leased by elena-vasquez/,
  );
  assert.is(onRemote('refs/consortium/leases'), current);
});

test("the deletion of someone's live session ref is refused; a force-push of the notes too", () => {
  refusedBy(
    plain.git(['push', 'origin', `:refs/consortium/sessions/${elenaSession}`]),
    /rule: live session\).*live session of elena-vasquez/,
  );
  assert.ok(onRemote(`refs/consortium/sessions/${elenaSession}`));
  const notes = onRemote('refs/notes/consortium');
  const orphan = must(
    m.plain.git(['commit-tree', '4b825dc642cb6eb9a060e54bf8d69288fbee4904'], { input: 'no notes\n' }),
  ).stdout.trim();
  refusedBy(
    plain.git(['push', '--force', 'origin', `${orphan}:refs/notes/consortium`]),
    /rule: notes rewritten\)/,
  );
  assert.is(onRemote('refs/notes/consortium'), notes);
});

test('a gate unlocked by someone who does not own it is refused by the server (GL_USER), even forced', () => {
  const forced = yuki.gc(['gates', 'unlock', 'G1', '--force', '--note', 'I say it is done']);
  assert.is(forced.code, 1, forced.stderr);
  assert.match(forced.stdout, /G1 stays locked: the server's gate refused the change/);
  assert.match(forced.stderr, /The server's gate refused it: .*The change is taken back here as well\./);
  assert.is(yuki.json(['gates']).gates.find((g: any) => g.id === 'G1').status, 'locked', 'not even here');
  assert.match(
    forced.stderr,
    /rule: gate owner\).*gate G1 is elena-vasquez's to unlock; yuki-tanaka may not/,
  );
  assert.match(forced.stderr, /--force does not count on this server/);
  // Not on the remote: elena's clone, synced, sees G1 locked still.
  must(elena.gc(['sync']));
  assert.is(elena.json(['gates']).gates.find((g: any) => g.id === 'G1').status, 'locked');
  // Its owner unlocks it.
  must(elena.gc(['gates', 'unlock', 'G1', '--note', 'statistics validated']));
  must(yuki.gc(['sync']));
  assert.is(yuki.json(['gates']).gates.find((g: any) => g.id === 'G1').status, 'unlocked');
});

/** Fetches a coordination ref of the server into the plain clone, and its record. */
const theirs = (ref: string) => {
  must(plain.git(['fetch', '-q', 'origin', `+${ref}:refs/theirs/x`]));
  const sha = must(m.plain.git(['rev-parse', 'refs/theirs/x'])).stdout.trim();
  const text = must(m.plain.git(['log', '-1', '--format=%b', sha])).stdout.trim();
  return { sha, body: text.startsWith('{') ? JSON.parse(text) : undefined };
};

test('what a hostile pusher tries is refused: work parked under coordination refs, notes emptied, records rewritten', () => {
  // Work parked under a reservation or inside the notes' history is not a record, and a branch
  // pointing at it later is still checked as new work.
  must(plain.git(['checkout', '-q', '-b', 'parked', 'origin/main']));
  m.plain.commit('Spec, parked', { 'protocol/spec.md': '# Protocol\n\nparked\n' });
  const bad = must(m.plain.git(['rev-parse', 'HEAD'])).stdout.trim();
  refusedBy(
    plain.git(['push', 'origin', 'HEAD:refs/consortium-reserved/parked']),
    /rule: (not a record|reservation)\)/,
  );
  const notes = theirs('refs/notes/consortium');
  const tree = must(m.plain.git(['rev-parse', `${notes.sha}^{tree}`])).stdout.trim();
  const carrier = must(
    m.plain.git(['commit-tree', tree, '-p', notes.sha, '-p', bad], { input: 'notes\n' }),
  ).stdout.trim();
  refusedBy(plain.git(['push', 'origin', `${carrier}:refs/notes/consortium`]), /rule: not a record\)/);
  // Work in a folder whose name looks like a notes fan-out folder is no note either.
  const blob = must(
    m.plain.git(['hash-object', '-w', '--stdin'], { input: 'print("parked")\n' }),
  ).stdout.trim();
  const inner = must(m.plain.git(['mktree'], { input: `100644 blob ${blob}\tevil.py\n` })).stdout.trim();
  // Every note kept, so that only the parked file is new.
  const kept = must(m.plain.git(['ls-tree', notes.sha])).stdout;
  const outer = must(m.plain.git(['mktree'], { input: `${kept}040000 tree ${inner}\tab\n` })).stdout.trim();
  const disguised = must(
    m.plain.git(['commit-tree', outer, '-p', notes.sha], { input: 'notes\n' }),
  ).stdout.trim();
  refusedBy(plain.git(['push', 'origin', `${disguised}:refs/notes/consortium`]), /rule: not a record\)/);
  refusedBy(
    plain.git(['push', 'origin', 'HEAD:refs/heads/parked']),
    /lease protocol\/spec\.md: held by elena-vasquez/,
  );
  // The notes emptied by a fast-forward.
  const erased = record(m.plain, 'erase', [notes.sha]);
  refusedBy(
    plain.git(['push', 'origin', `${erased}:refs/notes/consortium`]),
    /rule: notes rewritten\).*would lose lines/,
  );
  // elena's live session marked merged (its work is not in main), then deleted.
  const session = theirs(`refs/consortium/sessions/${elenaSession}`);
  const merged = record(m.plain, { ...session.body, seq: session.body.seq + 1, state: 'merged' }, [
    session.sha,
  ]);
  refusedBy(
    plain.git(['push', 'origin', `${merged}:refs/consortium/sessions/${elenaSession}`]),
    /rule: not yours\)/,
  );
  // Her live lease dropped from the table.
  const leases = theirs('refs/consortium/leases');
  const dropped = record(
    m.plain,
    {
      ...leases.body,
      seq: leases.body.seq + 1,
      leases: leases.body.leases.filter((l: any) => l.researcher !== 'elena-vasquez'),
    },
    [leases.sha],
  );
  refusedBy(
    plain.git(['push', 'origin', `${dropped}:refs/consortium/leases`]),
    /rule: not yours\).*the live lease of protocol\/spec\.md is elena-vasquez's/,
  );
  // One of her gate events rewritten in place: reopened becomes unlocked.
  must(elena.gc(['gates', 'reopen', 'G1', '--note', 'one more check']));
  const writer = must(m.elena.git(['config', 'consortium.writer'])).stdout.trim();
  const gates = theirs(`refs/consortium/gates/${writer}`);
  const events = gates.body.events.map((e: any) => (e.action === 'reopen' ? { ...e, action: 'unlock' } : e));
  const rewritten = record(m.plain, { ...gates.body, events }, [gates.sha]);
  refusedBy(
    plain.git(['push', 'origin', `${rewritten}:refs/consortium/gates/${writer}`]),
    /rule: not a fast-forward\).*would lose or change the gate event/,
  );
  must(elena.gc(['gates', 'unlock', 'G1', '--note', 'checked']));
  // Her own session, dated a year ahead, would stay live (and its leases held) for a year.
  const mine = theirs(`refs/consortium/sessions/${elenaSession}`);
  const ahead = new Date(Date.now() + 365 * 86_400_000).toISOString();
  const future = record(m.elena, { ...mine.body, seq: mine.body.seq + 1, heartbeatAt: ahead }, [mine.sha]);
  must(elena.git(['fetch', '-q', 'origin', `refs/consortium/sessions/${elenaSession}`]));
  refusedBy(
    elena.git(['push', 'origin', `${future}:refs/consortium/sessions/${elenaSession}`]),
    /rule: clock\).*ahead of the server's clock/,
  );
  // Her own lease taken again, dated a year ahead: a row changed in place is dated too.
  const table = theirs('refs/consortium/leases');
  const held = table.body.leases.findIndex((l: any) => l.researcher === 'elena-vasquez');
  assert.ok(held >= 0, JSON.stringify(table.body));
  const rows = table.body.leases.map((l: any, i: number) => (i === held ? { ...l, acquiredAt: ahead } : l));
  const redated = record(m.elena, { ...table.body, seq: table.body.seq + 1, leases: rows }, [table.sha]);
  must(elena.git(['fetch', '-q', 'origin', 'refs/consortium/leases']));
  refusedBy(
    elena.git(['push', 'origin', `${redated}:refs/consortium/leases`]),
    /rule: clock\).*ahead of the server's clock/,
  );
});

test('a merge that edits a leased file itself is checked like any commit', () => {
  must(m.plain.git(['fetch', '-q', 'origin']));
  must(m.plain.git(['checkout', '-q', '-B', 'merged-edit', 'origin/main']));
  must(m.plain.git(['merge', '-q', '--no-ff', '--no-commit', `origin/${elenaBranch}`]));
  m.plain.write('protocol/spec.md', '# Protocol\n\nedited inside the merge\n');
  must(m.plain.git(['add', '-A']));
  must(m.plain.git(['commit', '-q', '-m', 'Merge']));
  refusedBy(
    plain.git(['push', 'origin', 'HEAD:refs/heads/merged-edit']),
    /lease protocol\/spec\.md: held by elena-vasquez/,
  );
});

test("a pusher the server does not know as a researcher is nobody's session, and cannot override", () => {
  must(m.plain.git(['fetch', '-q', 'origin', `${elenaBranch}:refs/remotes/origin/${elenaBranch}`]));
  must(m.plain.git(['checkout', '-q', '-b', 'into-elena', `origin/${elenaBranch}`]));
  m.plain.commit('Spec, through her branch', { 'protocol/spec.md': '# Protocol\n\nbot\n' });
  const bot = { env: { GL_USER: 'ci-bot' } };
  const r = m.plain.git(
    ['push', '-o', 'consortium.override=bot says so', 'origin', `HEAD:${elenaBranch}`],
    bot,
  );
  refusedBy(r, /lease protocol\/spec\.md: held by elena-vasquez/);
  assert.match(r.stderr, /does not know the pusher as a researcher \(GL_USER=ci-bot, not a researcher\)/);
});

test('a change of the configuration on the default branch lands only as a recorded decision', () => {
  must(plain.git(['checkout', '-q', '-b', 'loosen', 'origin/main']));
  const loose = CONFIG.replace(
    'server:\n  identity: gitolite\n',
    'server:\n  identity: none\n  policy: { lease: off }\n',
  );
  m.plain.commit('A quieter gate', { 'consortium.config.yaml': loose });
  refusedBy(
    plain.git(['push', 'origin', 'HEAD:refs/heads/main']),
    /rule: configuration\).*lands only as a person's decision/,
  );
  m.plain.commit('Protocol wording', { 'protocol/spec.md': '# Protocol\n\nloosened\n' });
  refusedBy(plain.git(['push', 'origin', 'HEAD:refs/heads/loosen']), /lease protocol\/spec\.md/);
  must(plain.git(['reset', '-q', '--hard', 'HEAD~1']));
  const decided = plain.git([
    'push',
    '-o',
    'consortium.override=the consortium voted for it',
    'origin',
    'HEAD:refs/heads/main',
  ]);
  assert.is(decided.code, 0, decided.stderr);
  assert.match(
    decided.stderr,
    /the configuration changes as a person's decision, recorded: "the consortium voted for it"/,
  );
  const tip = must(m.plain.git(['rev-parse', 'HEAD'])).stdout.trim();
  const notes = must(
    m.elena.git(['--git-dir', world.remote, 'notes', '--ref=consortium', 'show', tip]),
  ).stdout;
  assert.match(notes, /"type":"override".*"by":"yuki-tanaka".*"reason":"the consortium voted for it"/);
  // Put back as it was, decided the same way, for the tests that follow.
  m.plain.commit('The gate as before', { 'consortium.config.yaml': CONFIG });
  must(plain.git(['push', '-o', 'consortium.override=back to gitolite', 'origin', 'HEAD:refs/heads/main']));
});

test('one record the server refuses does not hold back the others a clone shares', () => {
  must(yuki.git(['config', 'remote.origin.url', '/nowhere']));
  const offline = yuki.gc(['gates', 'unlock', 'G3', '--force', '--note', 'while offline']);
  must(yuki.git(['config', 'remote.origin.url', world.remote]));
  assert.match(offline.stderr, /Not shared with the remote yet/);
  const s = yuki.json(['start', '-r', 'yuki-tanaka', '--no-branch', '--intent', 'after the outage']);
  const synced = yuki.gc(['sync']);
  assert.match(
    synced.stderr,
    /Refused by the server's gate, so it stays in this clone only: .*rule: (gate owner|not yours)\).*The gate change is taken back here\./,
  );
  assert.ok(
    onRemote(`refs/consortium/sessions/${s.id}`),
    'the session record reached the server all the same',
  );
  assert.is(
    yuki.json(['gates']).gates.find((g: any) => g.id === 'G2').status,
    'locked',
    'and the refused change is gone here',
  );
  must(yuki.gc(['end']));
});

test('ordinary work passes untouched: start, push, sync, lease, handoff, end, recover and archive', () => {
  const s = yuki.json(['start', '-r', 'yuki-tanaka', '--intent', 'timing']);
  must(yuki.gc(['lease', 'acquire', 'consortium/yuki-tanaka/**']));
  m.yuki.commit('Timing notes', { 'consortium/yuki-tanaka/timing.md': 'jitter\n' });
  const pushed = yuki.git(['push', '-u', 'origin', 'HEAD']);
  assert.is(pushed.code, 0, pushed.stderr);
  must(yuki.gc(['lease', 'release', '--all']));
  must(yuki.gc(['handoff', '--summary-file', '-'], { input: 'Timing measured; next: the jitter budget.\n' }));
  must(yuki.gc(['end']));
  must(yuki.gc(['sync']));
  for (const x of [elena, yuki]) must(x.gc(['sync']));
  // Two days on: recover archives the ended session, deleting its refs on the server.
  const later = { CONSORTIUM_CLOCK: new Date(Date.now() + 2 * 86_400_000).toISOString() };
  const recovered = elena.json(['recover'], { env: later });
  assert.ok(
    recovered.actions.some((a: any) => a.action === 'archive-session' && a.target === s.id && a.done),
    JSON.stringify(recovered.actions),
  );
  assert.is(onRemote(`refs/consortium/sessions/${s.id}`), '');
  const list = must(
    m.elena.git(['--git-dir', world.remote, 'cat-file', 'blob', 'refs/consortium/archive:sessions.json']),
  );
  assert.match(list.stdout, s.id);
  // A stale session of another researcher may be ended by anyone's recover.
  const stale = recovered.actions.filter((a: any) => a.action === 'end-session');
  for (const a of stale) assert.ok(a.done, JSON.stringify(a));
});

test('a time-out or crash of the server gate refuses the push, naming server doctor', () => {
  m.plain.commit('Anything', { 'consortium/yuki-tanaka/more.md': 'more\n' });
  const r = plain.git(['push', 'origin', 'HEAD:refs/heads/plain-more'], {
    env: { CONSORTIUM_SERVER_TIMEOUT_MS: '1' },
  });
  refusedBy(r, /the gate could not check this push: it took longer than 0\.001s; server\.onError is refuse/);
  assert.match(r.stderr, /git consortium server doctor/);
  assert.is(onRemote('refs/heads/plain-more'), '');
});

test('server uninstall puts back the hook it ran first; pushes are no longer checked', () => {
  const out = must(elena.gc(['server', 'uninstall', '--repo', world.remote]));
  assert.match(out.stdout, /put back the hook it ran first/);
  assert.match(
    readFileSync(path.join(world.remote, 'hooks', 'pre-receive'), 'utf8'),
    "the host's own pre-receive ran",
  );
  const doctor = elena.gc(['server', 'doctor', '--repo', world.remote]);
  assert.is(doctor.code, 1);
  assert.match(doctor.stdout, /PROBLEM {2}pre-receive hook/);
});

/** A second, small world for what the first one's configuration does not show. */
function smallWorld(config: string) {
  const small = consortium(['ana', 'bo'], {
    ...SAMPLE_FILES,
    'consortium.config.yaml': `${SAMPLE_CONFIG}${config}`,
  });
  must(small.m.ana.gc(['server', 'install', '--repo', small.world.remote]));
  return small;
}

test('with server.identity none, the records are still kept whole, and doctor says ownership is not enforced', () => {
  const { world: w, m: s, cleanup: done } = smallWorld('');
  try {
    // A package.json without a consortium key is no configuration, on the server as here.
    s.ana.commit('A package', { 'package.json': '{"name": "tcp", "private": true}\n' });
    must(s.ana.git(['push', '-q', 'origin', 'HEAD:main']));
    const doctor = must(s.ana.gc(['server', 'doctor', '--repo', w.remote]));
    assert.match(doctor.stdout, /ok {2}configuration: main:consortium\.config\.yaml/);
    assert.match(doctor.stdout, /Not enforced:\n {2}- ownership .*server\.identity is none/);
    const started = json(s.ana, ['start', '-r', 'elena-vasquez']);
    const r = s.bo.git(['push', 'origin', `:refs/consortium/sessions/${started.id}`]);
    refusedBy(r, /rule: live session\)/);
    must(s.bo.git(['hash-object', '-w', '-t', 'tree', '/dev/null']));
    const junk = record(s.bo, 'not json');
    refusedBy(s.bo.git(['push', 'origin', `${junk}:refs/consortium/leases`]), /rule: unreadable record\)/);
  } finally {
    done();
  }
});

test('signed pushes: the key that signed the push says who pushes; an unsigned push is nobody', () => {
  const keys = mkdtempSync(path.join(tmpdir(), 'consortium-keys-'));
  const key = (id: string) => {
    must({
      code:
        spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', id, '-f', path.join(keys, id)])
          .status ?? 1,
      stdout: '',
      stderr: 'ssh-keygen',
    });
    return readFileSync(path.join(keys, `${id}.pub`), 'utf8').trim();
  };
  const listed = `researchers:\n  elena-vasquez:\n    keys: ["${key('elena-vasquez')}"]\n  yuki-tanaka:\n    keys: ["${key('yuki-tanaka')}"]\n  aria-blackwood: {}\n`;
  const { world: w, m: s, cleanup: done } = smallWorld('');
  try {
    // The configuration on main, as its researchers would commit it: keys, and signed identity.
    const config =
      SAMPLE_CONFIG.replace(/researchers:\n( {2}.*\n| {4}.*\n)*/, listed) + 'server:\n  identity: signed\n';
    s.ana.commit('Signed pushes', { 'consortium.config.yaml': config });
    must(s.ana.git(['push', '-o', 'consortium.override=signed pushes from now on', 'origin', 'HEAD:main']));
    const installed = must(s.ana.gc(['server', 'install', '--repo', w.remote]));
    assert.match(installed.stdout, /allowedSignersFile/);
    assert.match(
      must(s.ana.gc(['server', 'doctor', '--repo', w.remote])).stdout,
      /ok {2}signed pushes: 2 keys of 3 researchers/,
    );
    const signing = (x: Machine, id: string) => {
      must(x.git(['pull', '-q', 'origin', 'main']));
      for (const [k, v] of <[string, string][]>[
        ['gpg.format', 'ssh'],
        ['user.signingKey', path.join(keys, id)],
        ['push.gpgSign', 'true'],
        ['consortium.researcher', id],
      ])
        must(x.git(['config', k, v]));
      must(x.gc(['init']));
    };
    signing(s.ana, 'elena-vasquez');
    signing(s.bo, 'yuki-tanaka');
    const forced = s.bo.gc(['gates', 'unlock', 'G1', '--force']);
    assert.is(forced.code, 1, forced.stderr);
    assert.match(forced.stderr, /rule: gate owner\).*yuki-tanaka may not/);
    const claimed = s.bo.gc(['gates', 'unlock', 'G1', '-r', 'elena-vasquez']);
    assert.match(claimed.stderr, /rule: not yours\).*by elena-vasquez, and this push is yuki-tanaka's/);
    // Unsigned, nobody is known: live state is nobody's to write.
    const unsigned = s.ana.gc(['gates', 'unlock', 'G1'], {
      env: { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'push.gpgSign', GIT_CONFIG_VALUE_0: 'false' },
    });
    assert.is(unsigned.code, 1, unsigned.stderr);
    assert.match(unsigned.stderr, /this push is an unknown pusher \(the push is not signed\)'s/);
    assert.is(must(s.ana.gc(['gates', 'unlock', 'G1'])).code, 0, 'its owner, signed, unlocks it');
  } finally {
    done();
    rmSync(keys, { recursive: true, force: true });
  }
});

test('server.onError allow lets a push through when the gate cannot finish, saying so; a gone Node.js refuses', () => {
  const { world: w, m: s, cleanup: done } = smallWorld('server:\n  onError: allow\n');
  try {
    s.ana.commit('Anything', { 'notes.md': 'one\n' });
    const r = s.ana.git(['push', 'origin', 'HEAD:refs/heads/late'], {
      env: { CONSORTIUM_SERVER_TIMEOUT_MS: '1' },
    });
    assert.is(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /could not check this push: it took longer than 0\.001s; server\.onError is allow, so the push goes ahead unchecked/,
    );
    // The hooks name their Node.js by path: when it is gone, the push is refused and doctor says why.
    const bin = mkdtempSync(path.join(tmpdir(), 'consortium-node-'));
    symlinkSync(process.execPath, path.join(bin, 'node'));
    must(s.ana.gc(['server', 'install', '--repo', w.remote, '--node', path.join(bin, 'node')]));
    rmSync(bin, { recursive: true, force: true });
    const gone = s.ana.git(['push', 'origin', 'HEAD:refs/heads/gone']);
    assert.is(gone.code, 1, gone.stderr);
    assert.match(
      gone.stderr,
      /the gate cannot run: .*node or .* is gone from the server, so the push is refused/,
    );
    const doctor = s.ana.gc(['server', 'doctor', '--repo', w.remote]);
    assert.is(doctor.code, 1);
    assert.match(
      doctor.stdout,
      /PROBLEM {2}pre-receive hook: its Node\.js \(.*node\) is gone: run git consortium server install again/,
    );
  } finally {
    done();
  }
});

test('an override is recorded for the refs that landed, when git refuses another ref of the same push after the gate', () => {
  const { world: w, m: s, cleanup: done } = smallWorld('');
  try {
    must(s.ana.gc(['init']));
    json(s.ana, ['start', '-r', 'elena-vasquez']);
    must(s.ana.gc(['lease', 'acquire', 'protocol/spec.md']));
    must(s.bo.git(['--git-dir', w.remote, 'config', 'receive.denyNonFastForwards', 'true']));
    must(s.bo.git(['checkout', '-q', '-b', 'other']));
    s.bo.commit('One', { 'notes.md': 'one\n' });
    must(s.bo.git(['push', '-q', 'origin', 'other']));
    must(s.bo.git(['reset', '-q', '--hard', 'HEAD~1']));
    s.bo.commit('One, rewritten', { 'notes.md': 'uno\n' });
    must(s.bo.git(['checkout', '-q', '-b', 'spec', 'main']));
    s.bo.commit('Spec', { 'protocol/spec.md': 'bo\n' });
    // git refuses `other` (not a fast-forward) after pre-receive let both through.
    const r = s.bo.git(['push', '--force', '-o', 'consortium.override=agreed', 'origin', 'spec', 'other']);
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, /other/);
    const tip = must(s.bo.git(['rev-parse', 'spec'])).stdout.trim();
    assert.is(must(s.bo.git(['ls-remote', 'origin', 'refs/heads/spec'])).stdout.split('\t')[0], tip);
    const notes = must(s.bo.git(['--git-dir', w.remote, 'notes', '--ref=consortium', 'show', tip])).stdout;
    assert.match(notes, /"type":"override".*"reason":"agreed"/);
  } finally {
    done();
  }
});

test("server hook-script prints the hook for a host's own hooks folder, and it gates pushes there", () => {
  const { world: w, m: s, cleanup: done } = smallWorld('');
  try {
    must(s.ana.gc(['server', 'uninstall', '--repo', w.remote]));
    const script = must(s.ana.gc(['server', 'hook-script'])).stdout;
    assert.match(script, /^#!\/bin\/sh\n/);
    assert.match(script, /hook pre-receive/);
    // A host that runs its own hook files (Gitea's and GitLab's custom hooks) runs this one.
    writeFileSync(path.join(w.remote, 'hooks', 'pre-receive'), script, { mode: 0o755 });
    must(s.ana.gc(['init']));
    json(s.ana, ['start', '-r', 'elena-vasquez']);
    must(s.ana.gc(['lease', 'acquire', 'protocol/spec.md']));
    must(s.bo.git(['checkout', '-q', '-b', 'bo']));
    s.bo.commit('Spec', { 'protocol/spec.md': 'bo\n' });
    refusedBy(s.bo.git(['push', 'origin', 'HEAD']), /lease protocol\/spec\.md: held by elena-vasquez/);
    const bad = s.ana.gc(['server', 'hook-script', '--hook', 'update']);
    assert.is(bad.code, 2);
    assert.match(bad.stderr, /--hook takes pre-receive or post-receive, not "update"/);
  } finally {
    done();
  }
});

test("a stricter server.policy: the clients' gate blocks what the server would refuse, and one override serves both", () => {
  const { m: s, cleanup: done } = smallWorld('server:\n  policy:\n    merge: block\n');
  try {
    for (const x of [s.ana, s.bo]) must(x.gc(['init']));
    const a = json(s.ana, ['start', '-r', 'elena-vasquez']);
    s.ana.commit('Shared code, line 4', { 'src/shared.py': '# shared code\n\nline 3\nELENA\n' });
    must(s.ana.git(['push', '-u', 'origin', 'HEAD']));
    json(s.bo, ['start', '-r', 'yuki-tanaka']);
    s.bo.commit('Shared code, line 4 too', { 'src/shared.py': '# shared code\n\nline 3\nYUKI\n' });
    const blocked = s.bo.git(['push', '-u', 'origin', 'HEAD']);
    assert.is(blocked.code, 1, blocked.stderr);
    assert.match(blocked.stderr, /^git-consortium: push blocked by 1 conflict/m);
    assert.match(
      blocked.stderr,
      new RegExp(`merge src/shared\\.py: also changed by elena-vasquez .* on ${a.branch}`),
    );
    const through = s.bo.git(['push', '-u', 'origin', 'HEAD'], {
      env: { CONSORTIUM_OVERRIDE: 'we split the file tomorrow' },
    });
    assert.is(through.code, 0, through.stderr);
    assert.match(
      through.stderr,
      /git-consortium server: pushing despite 1 conflict.*we split the file tomorrow/,
    );
  } finally {
    done();
  }
});

test.run();
