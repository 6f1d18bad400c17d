import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  consortium,
  installServerGate,
  json,
  type Machine,
  must,
  type Result,
  SAMPLE_CONFIG,
  SAMPLE_FILES,
} from '../helpers/sandbox.js';
import { type HttpServer, type SshServer, transports } from '../helpers/transports.js';

/**
 * The gate on the server (SPEC section 13) over real transports: the world's bare remote with
 * `server install`, served by OpenSSH's sshd (the pusher known from the key, as gitolite
 * does) and by git http-backend (from the basic-auth user). The refusals of
 * test/e2e/server.test.ts hold here too, with the identity set by the transport, never by
 * anything the pusher's machine says; and overrides by push option land and are recorded.
 */
const CONFIG = `${SAMPLE_CONFIG}server:\n  identity: gitolite\n`;
const { world, cleanup } = consortium([], { ...SAMPLE_FILES, 'consortium.config.yaml': CONFIG });
const net = await transports(world);
test.after(async () => {
  await net.stop();
  cleanup();
});

let ssh: SshServer;
let http: HttpServer;
let elena: Machine; // over SSH, with her key
let yuki: Machine; // over SSH, with his key
let aria: Machine; // over HTTP, with her password
let plain: Machine; // over HTTP as yuki, a clone that never ran init
let session = '';

const onRemote = (ref: string) =>
  must(elena.git(['--git-dir', world.remote, 'for-each-ref', '--format=%(objectname)', ref])).stdout.trim();
const head = (machine: Machine) => must(machine.git(['rev-parse', 'HEAD'])).stdout.trim();
const refusedBy = (r: Result, rule: RegExp | string) => {
  assert.is(r.code, 1, `refused: ${r.stderr}`);
  assert.match(r.stderr, /remote: git-consortium server: /);
  assert.match(r.stderr, rule);
};

test.before(() =>
  setUp().catch((error) => {
    console.error(`The server transport tests could not set up: ${(error as Error).message}`);
    throw error;
  }),
);

async function setUp() {
  installServerGate(world);
  ssh = await net.ssh();
  http = await net.http();
  elena = ssh.clone('elena', 'elena-vasquez');
  yuki = ssh.clone('yuki', 'yuki-tanaka');
  aria = http.clone('aria', 'aria-blackwood');
  plain = http.clone('plain', 'yuki-tanaka');
  for (const [machine, id] of [
    [elena, 'elena-vasquez'],
    [yuki, 'yuki-tanaka'],
    [aria, 'aria-blackwood'],
  ] as const) {
    must(machine.gc(['init']));
    must(machine.git(['config', 'consortium.researcher', id]));
  }
}

test('over SSH: ordinary work passes; a --no-verify push onto a lease is refused by the server', () => {
  const s = json(elena, ['start', '-r', 'elena-vasquez', '--intent', 'statistics']);
  session = s.id;
  must(elena.gc(['lease', 'acquire', 'protocol/spec.md']));
  elena.commit('Power analysis', { 'consortium/elena-vasquez/power.md': 'n = 120\n' });
  const pushed = elena.git(['push', '-u', 'origin', 'HEAD']);
  assert.is(pushed.code, 0, pushed.stderr);
  assert.is(onRemote(`refs/heads/${s.branch}`), head(elena));
  must(yuki.gc(['sync']));

  must(yuki.git(['checkout', '-q', '-b', 'yuki-spec']));
  yuki.commit('Latency in the protocol', { 'protocol/spec.md': '# Protocol\n\nlatency 5ms\n' });
  refusedBy(
    yuki.git(['push', '--no-verify', 'origin', 'HEAD']),
    /lease protocol\/spec\.md: held by elena-vasquez/,
  );
  assert.is(onRemote('refs/heads/yuki-spec'), '');
});

test("over SSH: the key says who pushes: another researcher's gate unlock and session record are refused", () => {
  const unlock = yuki.gc(['gates', 'unlock', 'G1', '--force', '--note', 'done, I think']);
  assert.is(unlock.code, 1, unlock.stderr);
  assert.match(unlock.stderr, /rule: gate owner\).*G1 is elena-vasquez's to unlock; yuki-tanaka may not/);
  // Claiming to be elena on yuki's machine changes nothing: the server knows the key.
  const claimed = yuki.gc(['gates', 'unlock', 'G1', '-r', 'elena-vasquez', '--note', 'as elena']);
  assert.is(claimed.code, 1, claimed.stderr);
  assert.match(claimed.stderr, /rule: not yours\).*by elena-vasquez, and this push is yuki-tanaka's/);
  must(yuki.git(['fetch', '-q', 'origin', `refs/consortium/sessions/${session}`]));
  const record = JSON.parse(must(yuki.git(['log', '-1', '--format=%b', 'FETCH_HEAD'])).stdout);
  const forged = must(
    yuki.git(['commit-tree', '4b825dc642cb6eb9a060e54bf8d69288fbee4904', '-p', 'FETCH_HEAD'], {
      input: `session\n\n${JSON.stringify({ ...record, seq: record.seq + 1, state: 'ended' })}\n`,
    }),
  ).stdout.trim();
  refusedBy(
    yuki.git(['push', 'origin', `${forged}:refs/consortium/sessions/${session}`]),
    /rule: not yours\).*elena-vasquez's session, and this push is yuki-tanaka's/,
  );
  // Its owner unlocks it.
  assert.is(elena.gc(['gates', 'unlock', 'G1', '--note', 'validated']).code, 0);
});

test("over HTTP: a clone without hooks is refused onto the lease and may not delete someone's live session", () => {
  must(plain.git(['checkout', '-q', '-b', 'plain-spec']));
  plain.commit('Latency, from a plain clone', { 'protocol/spec.md': '# Protocol\n\nlatency 4ms\n' });
  refusedBy(plain.git(['push', 'origin', 'HEAD']), /lease protocol\/spec\.md: held by elena-vasquez/);
  refusedBy(
    plain.git(['push', 'origin', `:refs/consortium/sessions/${session}`]),
    /rule: live session\).*live session of elena-vasquez/,
  );
  assert.ok(onRemote(`refs/consortium/sessions/${session}`));
});

test('over HTTP: an override by push option lands, recorded with the pusher the server knows', () => {
  const r = plain.git(['push', '-o', 'consortium.override=the camera-ready is due', 'origin', 'HEAD']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /recorded the override of refs\/heads\/plain-spec by yuki-tanaka/);
  assert.is(onRemote('refs/heads/plain-spec'), head(plain));
  must(aria.gc(['sync']));
  const override = json(aria, ['audit']).events.find(
    (e: any) => e.kind === 'override' && e.commit === head(plain),
  );
  assert.ok(override, 'audit lists it');
  assert.is(override.by, 'yuki-tanaka');
  assert.is(override.landed, true);
});

test('over SSH and HTTP: a rewrite of the lease table is refused; an override by push option over SSH lands', () => {
  for (const machine of [yuki, plain]) {
    must(machine.git(['fetch', '-q', 'origin', '+refs/consortium/leases:refs/theirs/leases']));
    const table = JSON.parse(must(machine.git(['log', '-1', '--format=%b', 'refs/theirs/leases'])).stdout);
    const emptied = must(
      machine.git(['commit-tree', '4b825dc642cb6eb9a060e54bf8d69288fbee4904'], {
        input: `leases\n\n${JSON.stringify({ ...table, seq: table.seq + 1, leases: [] })}\n`,
      }),
    ).stdout.trim();
    refusedBy(
      machine.git(['push', '--force', 'origin', `${emptied}:refs/consortium/leases`]),
      /refused refs\/consortium\/leases \(rule: not a fast-forward\)/,
    );
  }
  const r = yuki.git([
    'push',
    '--no-verify',
    '-o',
    'consortium.override=agreed at the meeting',
    'origin',
    'HEAD',
  ]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /recorded the override of refs\/heads\/yuki-spec by yuki-tanaka/);
  assert.is(onRemote('refs/heads/yuki-spec'), head(yuki));
});

test.run();
