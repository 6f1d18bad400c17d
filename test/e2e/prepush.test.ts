import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Machine } from '../../src/demo/world.js';
import { consortium, json, must } from '../helpers/sandbox.js';

/**
 * The pre-push gate through real `git push` to a bare remote, with three clones that never
 * run `sync` before pushing: the gate brings the coordination state itself.
 */
const { world, m, cleanup } = consortium(['elena', 'yuki', 'aria']);
const { elena, yuki, aria } = m;
test.after(cleanup);

const lines = (changed: Record<number, string>) =>
  `# Protocol\n\n${Array.from({ length: 10 }, (_, i) => changed[i + 3] ?? `line ${i + 3}`).join('\n')}\n`;
const ELENA_BRANCH = 'claude-elena-vasquez-20261125-090000';
const YUKI_BRANCH = 'claude-yuki-tanaka-20261125-090100';
const ARIA_BRANCH = 'claude-aria-blackwood-20261125-090200';
const onRemote = (ref: string) => must(aria.git(['ls-remote', 'origin', ref])).stdout.trim();

// Setup: init in every clone (it asserts nothing of its own: a failure here stops the file).
test.before(() => {
  for (const machine of [elena, yuki, aria]) must(machine.gc(['init']));
});

test("a push of a protocol file that another researcher's live session changed is refused, naming file, researcher and override", () => {
  must(elena.git(['checkout', '-b', ELENA_BRANCH]));
  elena.commit('Protocol: stricter statistics', { 'protocol/spec.md': lines({ 3: 'ELENA' }) });
  const pushed = elena.git(['push', '-u', 'origin', 'HEAD']);
  assert.is(pushed.code, 0, pushed.stderr);

  must(yuki.git(['checkout', '-b', YUKI_BRANCH]));
  yuki.commit('Protocol: latency budget', { 'protocol/spec.md': lines({ 12: 'YUKI' }) });
  const refused = yuki.git(['push', '-u', 'origin', 'HEAD']);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /push blocked/);
  assert.match(refused.stderr, /protocol\/spec\.md/);
  assert.match(refused.stderr, /elena-vasquez/);
  assert.match(refused.stderr, new RegExp(ELENA_BRANCH));
  assert.match(refused.stderr, /CONSORTIUM_OVERRIDE="<reason>" git push/);
  assert.is(onRemote(`refs/heads/${YUKI_BRANCH}`), '', 'the blocked branch did not reach the remote');
  // Nor does it by another name: pushed as a tag, the same commits meet the same gate.
  const asTag = yuki.git(['push', 'origin', 'HEAD:refs/tags/around-the-gate']);
  assert.is(asTag.code, 1, asTag.stderr);
  assert.match(asTag.stderr, 'push blocked');
  assert.is(onRemote('refs/tags/around-the-gate'), '');
  // At a glance: the verdict first, then one line per conflict naming the file once, then the
  // way out; all of it, git's and husky's lines included, in at most 12 lines.
  const said = refused.stderr.trimEnd().split('\n');
  assert.ok(said.length <= 12, refused.stderr);
  assert.match(said[0]!, /^git-consortium: push blocked by \d+ conflicts? with others' live work:$/);
  const conflicts = said.filter((l) => /^ {2}(HIGH|MEDIUM|LOW) /.test(l));
  assert.ok(conflicts.length >= 1);
  for (const line of conflicts) assert.is(line.split('protocol/spec.md').length - 1, 1, line);
  assert.is(
    refused.stderr.split('protocol/spec.md').length - 1,
    conflicts.length,
    'each file once per conflict',
  );
});

test('check reports the same conflict without pushing', () => {
  const r = yuki.gc(['check', '--json']);
  assert.is(r.code, 1);
  const out = JSON.parse(r.stdout);
  const conflict = out.conflicts.find((c: any) => c.kind === 'protocol');
  assert.ok(conflict, r.stdout);
  assert.equal(conflict.paths, ['protocol/spec.md']);
  assert.equal(conflict.researchers, ['elena-vasquez']);
  assert.is(conflict.severity, 'high');
  assert.is(conflict.action, 'block');
  assert.ok(out.blocked);
  const usage = yuki.gc(['check', 'no-such-revision..HEAD']);
  assert.is(usage.code, 2);
  assert.match(usage.stderr, /not a revision range/);
});

test('the override pushes, and the third researcher sees the override note after sync', () => {
  const reason = 'agreed with Elena on the call: both changes are compatible';
  const r = yuki.git(['push', '-u', 'origin', 'HEAD'], { env: { CONSORTIUM_OVERRIDE: reason } });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /override recorded/);
  const tip = must(yuki.git(['rev-parse', 'HEAD'])).stdout.trim();
  assert.is(onRemote(`refs/heads/${YUKI_BRANCH}`).split('\t')[0], tip);
  assert.ok(onRemote('refs/notes/consortium'), 'the notes reached the remote with the push');

  must(aria.gc(['sync']));
  must(aria.git(['fetch', '-q', 'origin']));
  const log = must(aria.git(['log', '--notes=consortium', '-1', `origin/${YUKI_BRANCH}`])).stdout;
  const override = log
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .find((n) => n.type === 'override');
  assert.ok(override, log);
  assert.is(override.reason, reason);
  assert.is(override.by, 'yuki-tanaka');
  assert.ok(override.at);
  assert.is(override.conflicts[0].kind, 'protocol');
  assert.equal(override.conflicts[0].researchers, ['elena-vasquez']);

  // Yuki's record (changed files, head) went with the push: aria sees it after sync.
  const status = json(aria, ['status']);
  const yukis = status.sessions.find((s: any) => s.researcher === 'yuki-tanaka');
  assert.ok(yukis);
  assert.equal(yukis.changedFiles, ['protocol/spec.md']);
  assert.is(yukis.head, tip);
});

test('pushed commits carry a provenance note: session, researcher, protocol files', () => {
  const note = must(elena.git(['notes', '--ref=consortium', 'show', 'HEAD'])).stdout;
  const entry = JSON.parse(note.split('\n').find((l) => l.includes('"provenance"'))!);
  const session = json(elena, ['status']).sessions.find((s: any) => s.researcher === 'elena-vasquez');
  assert.is(entry.session, session.id);
  assert.is(entry.researcher, 'elena-vasquez');
  assert.equal(entry.protocolFiles, ['protocol/spec.md']);
});

test('a push of several commits notes each one, and keeps the lines already on their notes', () => {
  const before = must(elena.git(['rev-parse', 'HEAD'])).stdout.trim();
  for (const n of [1, 2, 3])
    elena.commit(`Step ${n}`, { [`consortium/elena-vasquez/step${n}.md`]: `${n}\n` });
  const commits = must(elena.git(['rev-list', `${before}..HEAD`]))
    .stdout.trim()
    .split('\n');
  must(elena.git(['notes', '--ref=consortium', 'add', '-m', '{"type":"hand","at":"x"}', commits[1]!]));
  const r = elena.git(['push', 'origin', 'HEAD']);
  assert.is(r.code, 0, r.stderr);
  for (const commit of commits) {
    const note = must(elena.git(['notes', '--ref=consortium', 'show', commit])).stdout;
    assert.is(
      note.split('\n').filter((l) => l.includes('"provenance"')).length,
      1,
      `one provenance line on ${commit}`,
    );
  }
  assert.match(must(elena.git(['notes', '--ref=consortium', 'show', commits[1]!])).stdout, /"type":"hand"/);
  must(aria.git(['fetch', '-q', 'origin', '+refs/notes/consortium:refs/notes/seen']));
  assert.match(must(aria.git(['notes', '--ref=seen', 'show', commits[0]!])).stdout, /"provenance"/);
  assert.is(must(elena.git(['fsck', '--no-progress'])).code, 0);
});

test('without the test switch, a push is recorded by a detached process: its notes and session reach the remote', async () => {
  elena.commit('Step 4', { 'consortium/elena-vasquez/step4.md': '4\n' });
  const tip = must(elena.git(['rev-parse', 'HEAD'])).stdout.trim();
  const r = elena.git(['push', 'origin', 'HEAD'], { env: { CONSORTIUM_NO_BACKGROUND: '' } });
  assert.is(r.code, 0, r.stderr);
  let note = '';
  for (let i = 0; i < 100 && !note.includes('"provenance"'); i++) {
    await new Promise((done) => setTimeout(done, 100));
    must(aria.git(['fetch', '-q', 'origin', '+refs/notes/consortium:refs/notes/seen']));
    note = aria.git(['notes', '--ref=seen', 'show', tip]).stdout;
  }
  assert.match(note, /"provenance"/, 'the note reached the remote');
  const sessions = json(aria, ['status', '--fetch']).sessions;
  assert.ok(
    sessions.some((s: any) => s.researcher === 'elena-vasquez' && s.head === tip),
    "the pushing session's record followed",
  );
  const state = path.join(must(elena.git(['rev-parse', '--git-common-dir'])).stdout.trim(), 'consortium');
  assert.equal(
    readdirSync(path.resolve(elena.dir, state)).filter((f) => f.startsWith('push-record-')),
    [],
    'the order file is gone',
  );
});

test("a change inside another researcher's workspace pushes with a warning naming that researcher", () => {
  must(aria.git(['checkout', '-q', '-b', ARIA_BRANCH, 'origin/main']));
  aria.commit('A note for Elena', { 'consortium/elena-vasquez/from-aria.md': 'Please look at G1.\n' });
  const r = aria.git(['push', '-u', 'origin', 'HEAD']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: LOW foreign/);
  assert.match(r.stderr, /consortium\/elena-vasquez\/from-aria\.md/);
  assert.match(r.stderr, /elena-vasquez's workspace/);
});

test('a session whose work the pushed commits already contain is not in the way', () => {
  elena.commit('TCP spec wording', { 'TCP_SPECIFICATION.md': '# TCP specification\n\nElena wording\n' });
  must(elena.git(['push']));
  must(aria.git(['fetch', '-q', 'origin']));
  // Without her work: aria's change to the same protocol file is refused.
  must(aria.git(['checkout', '-q', '-b', `${ARIA_BRANCH}-b`, 'origin/main']));
  aria.commit('TCP spec: threat model', {
    'TCP_SPECIFICATION.md': '# TCP specification\n\nAria threat model\n',
  });
  const refused = aria.git(['push', '-u', 'origin', 'HEAD']);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /TCP_SPECIFICATION\.md/);
  // With Elena's branch merged in, her session's work is part of the push.
  must(aria.git(['checkout', '-q', '-b', `${ARIA_BRANCH}-c`, `origin/${ELENA_BRANCH}`]));
  aria.commit('TCP spec: threat model on top of Elena', {
    'TCP_SPECIFICATION.md': '# TCP specification\n\nElena wording\nAria threat model\n',
  });
  const r = aria.git(['push', '-u', 'origin', 'HEAD']);
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stderr, /blocked/);
});

test('pushes to another remote are not checked; malformed hook input is reported and changes nothing', () => {
  const mirror = `${world.remote}-mirror.git`;
  must(aria.git(['init', '-q', '--bare', mirror]));
  // A protocol change that Yuki's live session collides with: blocked towards origin...
  aria.commit('Protocol: a note for the mirror', { 'protocol/spec.md': lines({ 5: 'ARIA MIRROR' }) });
  assert.is(aria.git(['push', '-u', 'origin', 'HEAD']).code, 1);
  // ...and not checked towards a private mirror.
  const other = aria.git(['push', mirror, 'HEAD:refs/heads/backup']);
  assert.is(other.code, 0, other.stderr);
  assert.not.match(other.stderr, /blocked/);
  const bad = aria.gc(['hook', 'pre-push', 'origin', world.remote], { input: 'not a ref line\n' });
  assert.is(bad.code, 0);
  assert.match(bad.stderr, /ignored a line git would not write/);
  const unknown = aria.gc(['hook', 'no-such-hook']);
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, /takes one of/);
});

test('CONSORTIUM=0 and HUSKY=0 turn the gate off; deletions are not checked', () => {
  // Yuki's live session changed protocol/spec.md: this push is one the gate refuses.
  aria.commit('Protocol: red-team notes', { 'protocol/spec.md': lines({ 7: 'ARIA' }) });
  must(aria.git(['checkout', '-q', '-B', `${ARIA_BRANCH}-b`]));
  assert.is(aria.git(['push', '-f', '-u', 'origin', 'HEAD']).code, 1);
  for (const off of [{ CONSORTIUM: '0' }, { HUSKY: '0' }]) {
    aria.commit(`Protocol change with ${JSON.stringify(off)}`, {
      'protocol/spec.md': lines({ 7: `ARIA ${Object.keys(off)[0]}` }),
    });
    const r = aria.git(['push', '-f', '-u', 'origin', 'HEAD'], { env: off });
    assert.is(r.code, 0, r.stderr);
    assert.not.match(r.stderr, /git-consortium[ :(]/);
  }
  const deleted = aria.git(['push', 'origin', '--delete', `${ARIA_BRANCH}-b`]);
  assert.is(deleted.code, 0, deleted.stderr);
  assert.not.match(deleted.stderr, /git-consortium[ :(]/);
});

test('two pushes at once from two worktrees of one clone both keep their provenance notes', async () => {
  const pushes = [0, 1].map((i) => {
    const wt = path.join(world.root, `elena-race-${i}`);
    must(
      elena.git([
        'worktree',
        'add',
        '-q',
        '-b',
        `claude-elena-vasquez-20261125-17000${i}`,
        wt,
        'origin/main',
      ]),
    );
    const machine = new Machine(world, 'elena', wt);
    machine.commit(`Race ${i}`, { [`consortium/elena-vasquez/race-${i}.md`]: `${i}\n` });
    return { machine, tip: must(machine.git(['rev-parse', 'HEAD'])).stdout.trim() };
  });
  const results = await Promise.all(
    pushes.map(
      ({ machine }) =>
        new Promise<number>((resolve) =>
          spawn('git', ['push', '-q', '-u', 'origin', 'HEAD'], {
            cwd: machine.dir,
            env: machine.env(),
            stdio: 'ignore',
          }).on('close', (code) => resolve(code ?? -1)),
        ),
    ),
  );
  assert.equal(results, [0, 0]);
  for (const { tip } of pushes) {
    const note = must(elena.git(['notes', '--ref=consortium', 'show', tip])).stdout;
    assert.match(note, /"type":"provenance"/);
  }
});

test('an unreachable remote: policy.offline decides, quickly, and a hung remote is given up on', () => {
  // Fetching goes to a remote that never answers; pushing still reaches the real one.
  must(yuki.git(['config', 'protocol.ext.allow', 'always']));
  must(yuki.git(['config', 'remote.origin.pushurl', world.remote]));
  must(yuki.git(['config', 'remote.origin.url', 'ext::sleep 30']));
  yuki.commit('More latency numbers', { 'consortium/yuki-tanaka/latency.md': '5 ms\n' });
  const started = Date.now();
  const warned = yuki.git(['push']);
  const seconds = (Date.now() - started) / 1000;
  assert.is(warned.code, 0, warned.stderr);
  assert.match(warned.stderr, /could not read the coordination state/);
  assert.ok(seconds < 20, `the gate gave up on the silent remote (${seconds}s)`);

  yuki.write(
    'consortium.config.yaml',
    `${must(yuki.git(['show', 'HEAD:consortium.config.yaml'])).stdout}policy:\n  offline: block\n`,
  );
  yuki.commit('Even more numbers', { 'consortium/yuki-tanaka/latency.md': '4 ms\n' });
  const blocked = yuki.git(['push']);
  assert.is(blocked.code, 1);
  assert.match(blocked.stderr, /policy\.offline is block/);
  must(yuki.git(['config', 'remote.origin.url', world.remote]));
  must(yuki.git(['config', '--unset', 'remote.origin.pushurl']));
});

test('tags cost the gate nothing: 2,000 at once start no git process per tag', () => {
  must(elena.git(['checkout', '-q', '-B', 'tags-base', 'origin/main']));
  const head = must(elena.git(['rev-parse', 'HEAD'])).stdout.trim();
  const lines = Array.from({ length: 2000 }, (_, i) => `create refs/tags/run-${i} ${head}\n`).join('');
  must(elena.git(['update-ref', '--stdin'], { input: lines }));
  // Every git process started under the push (the hook's included) writes a line here.
  const trace = path.join(world.root, 'tags-trace.txt');
  const r = elena.git(['push', '-q', 'origin', '--tags'], { env: { GIT_TRACE: trace } });
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stderr, 'git-consortium');
  const gitRuns = readFileSync(trace, 'utf8')
    .split('\n')
    .filter((l) => /trace: built-in: git /.test(l)).length;
  assert.ok(gitRuns < 40, `${gitRuns} git processes for a push of 2,000 tags`);
  assert.is(
    must(elena.git(['ls-remote', 'origin', 'refs/tags/run-1999']))
      .stdout.trim()
      .split('\t')[0],
    head,
  );
});

test('the gate has an overall time bound: past it, policy.offline decides, and the message says so', () => {
  must(aria.git(['checkout', '-q', '-B', 'bound-base', 'origin/main']));
  aria.commit('Three branches at once', { 'consortium/aria-blackwood/bound.md': 'x\n' });
  const head = must(aria.git(['rev-parse', 'HEAD'])).stdout.trim();
  must(
    aria.git(['update-ref', '--stdin'], {
      input: [1, 2, 3].map((i) => `update refs/heads/bound-${i} ${head}\n`).join(''),
    }),
  );
  const bound = { CONSORTIUM_GATE_BUDGET_MS: '1' };
  const warned = aria.git(['push', 'origin', 'bound-1', 'bound-2', 'bound-3'], { env: bound });
  assert.is(warned.code, 0, warned.stderr);
  assert.match(
    warned.stderr,
    /the check ran out of time \(3 of 3 refs were not checked within 0\.001s\); policy\.offline lets the rest through unchecked/,
  );
  aria.write(
    'consortium.config.yaml',
    `${must(aria.git(['show', 'HEAD:consortium.config.yaml'])).stdout}policy:\n  offline: block\n`,
  );
  aria.commit('Strict offline policy, for this test only', {});
  const blocked = aria.git(['push', 'origin', 'HEAD:refs/heads/bound-4'], { env: bound });
  assert.is(blocked.code, 1);
  assert.match(
    blocked.stderr,
    /the check ran out of time .*the push stops here: policy\.offline is block, or the push runs under an agent\./,
  );
  must(aria.git(['reset', '-q', '--hard', 'HEAD~1']));
});

test("the user's NODE_EXTRA_CA_CERTS costs the hooks nothing, and what they start still sees it", () => {
  // Node 20 reads the file as it starts, and warns on every start once it has gone. No hook
  // opens a TLS connection (git does the network), so the hooks start without it; what the
  // toolkit starts (here the upload-pack of the gate's fetch; a credential helper elsewhere)
  // gets the user's value.
  const seen = path.join(world.root, 'ca-seen');
  const uploadPack = path.join(world.root, 'ca-upload-pack');
  writeFileSync(
    uploadPack,
    `#!/bin/sh\nprintf '[%s]\\n' "$NODE_EXTRA_CA_CERTS" >> '${seen}'\nexec git-upload-pack "$@"\n`,
    {
      mode: 0o755,
    },
  );
  const env = { NODE_EXTRA_CA_CERTS: path.join(world.root, 'gone', 'corporate-ca.pem') };
  must(aria.git(['config', 'remote.origin.uploadpack', uploadPack]));
  try {
    must(aria.git(['checkout', '-q', '-B', 'claude-aria-blackwood-20261125-120000', 'origin/main']));
    aria.commit('Certificates', { 'consortium/aria-blackwood/ca.md': 'x\n' });
    const pushed = aria.git(['push', 'origin', 'HEAD'], { env });
    assert.is(pushed.code, 0, pushed.stderr);
    assert.not.match(pushed.stderr, /extra certs/);
    const checkout = aria.git(['checkout', '-b', 'claude-aria-blackwood-20261125-120100'], { env });
    assert.is(checkout.code, 0, checkout.stderr);
    assert.match(checkout.stderr, /registered session/);
    assert.not.match(checkout.stderr, /extra certs/);
    const calls = readFileSync(seen, 'utf8').trimEnd().split('\n');
    assert.equal(
      [...new Set(calls)],
      [`[${env.NODE_EXTRA_CA_CERTS}]`],
      "the gate's fetch ran with the user's value",
    );
  } finally {
    must(aria.git(['config', '--unset', 'remote.origin.uploadpack']));
  }
});

test("the toolkit's detached processes give the user's NODE_EXTRA_CA_CERTS back to the git they start", async () => {
  // The push's detached recorder shares its records with a push of its own: the receive-pack
  // it starts sees what that push's git was given.
  const seen = path.join(world.root, 'ca-seen-detached');
  const receivePack = path.join(world.root, 'ca-receive-pack');
  writeFileSync(
    receivePack,
    `#!/bin/sh\nprintf '[%s]\\n' "$NODE_EXTRA_CA_CERTS" >> '${seen}'\nexec git-receive-pack "$@"\n`,
    { mode: 0o755 },
  );
  const env = {
    NODE_EXTRA_CA_CERTS: path.join(world.root, 'gone', 'corporate-ca.pem'),
    CONSORTIUM_NO_BACKGROUND: '',
  };
  must(aria.git(['config', 'remote.origin.receivepack', receivePack]));
  try {
    aria.commit('Certificates, recorded in the background', { 'consortium/aria-blackwood/ca2.md': 'x\n' });
    const pushed = aria.git(['push', 'origin', 'HEAD'], { env });
    assert.is(pushed.code, 0, pushed.stderr);
    const calls = () => (existsSync(seen) ? readFileSync(seen, 'utf8').trimEnd().split('\n') : []);
    for (let i = 0; i < 100 && calls().length < 2; i++) await new Promise((done) => setTimeout(done, 100));
    assert.ok(calls().length >= 2, "the push and its recorder's own push both reached the remote");
    assert.equal([...new Set(calls())], [`[${env.NODE_EXTRA_CA_CERTS}]`]);
  } finally {
    must(aria.git(['config', '--unset', 'remote.origin.receivepack']));
  }
});

test("ssh giving up on its own at the gate's bound reads as the remote not answering, as the gate's own timer does", () => {
  // ssh's ConnectTimeout is the gate's bound: on a loaded machine ssh may give up a moment
  // before the gate's timer, with a line of its own. The gate's fetch goes over ssh here, and
  // git's push to the remote as before.
  const fake = path.join(world.root, 'ssh-timing-out');
  writeFileSync(fake, '#!/bin/sh\necho "Connection timed out during banner exchange" >&2\nexit 255\n', {
    mode: 0o755,
  });
  const url = must(aria.git(['remote', 'get-url', 'origin'])).stdout.trim();
  must(aria.git(['config', 'remote.origin.pushurl', url]));
  must(aria.git(['remote', 'set-url', 'origin', 'ssh://consortium.invalid/repo.git']));
  must(aria.git(['config', 'core.sshCommand', fake]));
  try {
    aria.commit('Over ssh', { 'consortium/aria-blackwood/over-ssh.md': 'x\n' });
    const r = aria.git(['push', 'origin', 'HEAD']);
    assert.is(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /could not read the coordination state from the remote \(origin did not answer within 3s\)/,
    );
  } finally {
    must(aria.git(['remote', 'set-url', 'origin', url]));
    must(aria.git(['config', '--unset', 'remote.origin.pushurl']));
    must(aria.git(['config', '--unset', 'core.sshCommand']));
  }
});

test('with CONSORTIUM_PHASES, the gate and sync each write one line of where their time went', () => {
  const file = path.join(world.root, 'phases.jsonl');
  const env = { CONSORTIUM_PHASES: file };
  aria.commit('Timed', { 'consortium/aria-blackwood/timed.md': 'x\n' });
  must(aria.git(['push', 'origin', 'HEAD'], { env }));
  must(aria.gc(['sync'], { env }));
  const lines = readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(
    lines.map((l) => l.what),
    ['pre-push', 'sync'],
  );
  const [gate, sync] = lines;
  for (const name of ['start', 'fetch', 'check', 'record']) assert.type(gate[name], 'number', name);
  for (const name of ['start', 'fetch', 'push', 'line index']) assert.type(sync[name], 'number', name);
  // The first phase holds Node's own start: never nothing.
  assert.ok(gate.start > 0 && sync.start > 0, JSON.stringify(lines));
});

test.run();
