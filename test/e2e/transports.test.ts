import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { consortium, json, type Machine, must, type Result } from '../helpers/sandbox.js';
import {
  type AskingServer,
  type HttpServer,
  type PasswordSshServer,
  type SilentServer,
  type SshServer,
  transports,
} from '../helpers/transports.js';

/**
 * The toolkit over real transports: the world's bare remote served by OpenSSH's sshd and by
 * git http-backend on 127.0.0.1, with machines configured as their users would be (a Host
 * alias in ~/.ssh/config, a credential store, a url with the password). Ordinary work goes
 * through; and the pre-push gate, through the hook `init` installs and a real `git push`,
 * gives its verdict within its bound (the coordination fetch is bounded at 3 s) against a
 * server that never answers, one that asks for a password, and a link that trickles, with
 * policy.offline deciding, no prompt, and no ssh or git-remote-http left running.
 */
const { world, cleanup } = consortium([]);
const net = await transports(world);
test.after(async () => {
  await net.stop();
  cleanup();
});

let ssh: SshServer;
let http: HttpServer;
let silent: SilentServer;
let asking: AskingServer;
let passwordSsh: PasswordSshServer;
let elena: Machine; // over SSH, her key in ~/.ssh
let yuki: Machine; // over HTTP, his password in a credential store
let aria: Machine; // over HTTP, her password in the url
const hookLog = path.join(world.root, 'pre-receive.log');
const askpassLog = path.join(world.root, 'askpass.log');
const askpass = path.join(world.root, 'askpass');
/** Within this, a bounded gate has answered (its fetch is bounded at 3 s). */
const BOUND_S = 8;

const onRemote = (ref: string) =>
  must(elena.git(['ls-remote', world.remote, ref]))
    .stdout.split('\t')[0]
    ?.trim() ?? '';
const head = (machine: Machine) => must(machine.git(['rev-parse', 'HEAD'])).stdout.trim();
const branch = (machine: Machine) => must(machine.git(['branch', '--show-current'])).stdout.trim();

/** One file committed on its own (the worktree may hold a configuration edit not to commit). */
let n = 0;
function commitOne(machine: Machine, file: string, content = `${++n}\n`) {
  machine.write(file, content);
  must(machine.git(['add', '--', file]));
  must(machine.git(['commit', '-q', '-m', `Work on ${file}`]));
  return head(machine);
}

function timedPush(machine: Machine, env: NodeJS.ProcessEnv = {}): Result & { seconds: number } {
  const started = Date.now();
  const r = machine.git(['push', '-u', 'origin', 'HEAD'], { env });
  return { ...r, seconds: (Date.now() - started) / 1000 };
}

/** Fetches (the gate's) from `url`; pushes (git's own, and the records') still to the real server. */
function fetchFrom(machine: Machine, url: string, pushUrl: string) {
  must(machine.git(['config', 'remote.origin.url', url]));
  must(machine.git(['config', 'remote.origin.pushurl', pushUrl]));
}

function restore(machine: Machine, url: string) {
  must(machine.git(['config', 'remote.origin.url', url]));
  machine.git(['config', '--unset', 'remote.origin.pushurl']);
  must(machine.git(['checkout', '--', 'consortium.config.yaml']));
}

function offlineBlocks(machine: Machine) {
  const config = must(machine.git(['show', 'HEAD:consortium.config.yaml'])).stdout;
  machine.write('consortium.config.yaml', `${config}policy:\n  offline: block\n`);
}

/** The gate's line saying why it could not read the coordination state. */
const offlineLine = (stderr: string) =>
  stderr.split('\n').find((l) => l.includes('could not read the coordination state')) ?? '';

async function noneLeft(
  server: { leftovers(...aliases: string[]): string[]; stats(): Promise<any> },
  ...aliases: string[]
) {
  assert.equal(server.leftovers(...aliases), [], 'no ssh or git-remote-http outlived the push');
  // The server saw every connection closed: nothing on this side holds one open.
  let open = (await server.stats()).open;
  for (let i = 0; open > 0 && i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    open = (await server.stats()).open;
  }
  assert.is(open, 0, 'no connection left open');
}

// uvu swallows what a before hook throws (every test then fails, saying nothing): say it here.
test.before(() =>
  setUp().catch((error) => {
    console.error(`The transport tests could not set up: ${(error as Error).message}`);
    throw error;
  }),
);

async function setUp() {
  ssh = await net.ssh();
  http = await net.http();
  silent = await net.silent();
  asking = await net.askingHttp();
  passwordSsh = await net.passwordSsh();
  // The server's own hook records who pushed what, as a server-side gate would read it.
  writeFileSync(
    path.join(world.remote, 'hooks', 'pre-receive'),
    `#!/bin/sh\nwhile read old new ref; do echo "$GL_USER $ref" >> '${hookLog}'; done\n`,
    { mode: 0o755 },
  );
  elena = ssh.clone('elena', 'elena-vasquez');
  yuki = http.clone('yuki', 'yuki-tanaka');
  aria = world.clone('aria', http.urlFor('aria-blackwood'));
  for (const machine of [elena, yuki, aria]) must(machine.gc(['init']));
  // An ssh that may ask would ask this, and wait for an answer that never comes.
  writeFileSync(askpass, `#!/bin/sh\necho "asked: $*" >> '${askpassLog}'\nsleep 30\n`, { mode: 0o755 });
}

test("over SSH: clone, start, commit, push through the gate, sync and lease acquire; the server's hook knows the pusher", () => {
  const session = json(elena, ['start', '-r', 'elena-vasquez', '--intent', 'statistics, over SSH']);
  assert.is(branch(elena), session.branch);
  const tip = commitOne(elena, 'consortium/elena-vasquez/analysis.md');
  const pushed = elena.git(['push', '-u', 'origin', 'HEAD']);
  assert.is(pushed.code, 0, pushed.stderr);
  assert.not.match(pushed.stderr, 'could not read the coordination state');
  assert.is(onRemote(`refs/heads/${session.branch}`), tip);
  assert.is(must(elena.gc(['sync'])).code, 0);
  const lease = elena.gc(['lease', 'acquire', 'TCP_SPECIFICATION.md', '--reason', 'rewording, over SSH']);
  assert.is(lease.code, 0, lease.stderr);
  assert.ok(onRemote('refs/consortium/leases'), 'the lease table reached the remote');
  // The server's hook knew her for her branch and for the toolkit's own refs alike.
  const pushes = readFileSync(hookLog, 'utf8');
  assert.match(pushes, `elena-vasquez refs/heads/${session.branch}\n`);
  assert.match(pushes, `elena-vasquez refs/consortium/sessions/${session.id}\n`);
  assert.match(pushes, 'elena-vasquez refs/consortium/leases\n');
});

test('over HTTP, with a credential store and with a password in the url: the same work, and each sees the other', async () => {
  const session = json(yuki, ['start', '-r', 'yuki-tanaka', '--intent', 'latency, over HTTP']);
  const tip = commitOne(yuki, 'protocol/spec.md', '# Protocol\n\nyuki: a latency budget\n');
  const pushed = yuki.git(['push', '-u', 'origin', 'HEAD']);
  assert.is(pushed.code, 0, pushed.stderr);
  assert.not.match(pushed.stderr, 'could not read the coordination state');
  assert.is(onRemote(`refs/heads/${session.branch}`), tip);
  must(yuki.gc(['sync']));
  // Elena's lease, taken over SSH, holds over HTTP.
  const refused = yuki.gc(['lease', 'acquire', 'TCP_SPECIFICATION.md']);
  assert.is(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /TCP_SPECIFICATION\.md is leased by elena-vasquez/);
  assert.is(yuki.gc(['lease', 'acquire', 'src/shared.py']).code, 0);

  json(aria, ['start', '-r', 'aria-blackwood', '--intent', 'red team, over HTTP']);
  must(aria.gc(['sync']));
  const { leases } = json(aria, ['lease', 'list']);
  assert.equal(leases.map((l: any) => [l.pattern, l.researcher]).sort(), [
    ['TCP_SPECIFICATION.md', 'elena-vasquez'],
    ['src/shared.py', 'yuki-tanaka'],
  ]);
  const researchers = json(aria, ['status']).sessions.map((s: any) => s.researcher);
  for (const r of ['elena-vasquez', 'yuki-tanaka', 'aria-blackwood']) assert.ok(researchers.includes(r), r);

  assert.match(readFileSync(hookLog, 'utf8'), `yuki-tanaka refs/heads/${session.branch}\n`);
  const receives = (await http.requests()).filter((r) => r.path.endsWith('/git-receive-pack'));
  assert.ok(receives.some((r) => r.user === 'yuki-tanaka' && r.status === 200));
  assert.ok(receives.some((r) => r.user === 'aria-blackwood' && r.status === 200));
});

test('over HTTP, a push sent in chunks and a fetch whose request is gzip-compressed are served whole', async () => {
  // A pack larger than http.postBuffer (1 MiB) goes in chunks, with no Content-Length.
  aria.write('consortium/aria-blackwood/capture.b64', randomBytes(1_500_000).toString('base64'));
  must(aria.git(['add', 'consortium/aria-blackwood/capture.b64']));
  must(aria.git(['commit', '-q', '-m', 'A packet capture']));
  const pushed = aria.git(['push', '-u', 'origin', 'HEAD']);
  assert.is(pushed.code, 0, pushed.stderr);
  assert.is(onRemote(`refs/heads/${branch(aria)}`), head(aria));
  // Thirty new tips to want make a fetch request of more than 1 KiB, which git compresses.
  const tree = must(yuki.git(['rev-parse', 'HEAD^{tree}'])).stdout.trim();
  const topics = Array.from({ length: 30 }, (_, i) => {
    const commit = must(yuki.git(['commit-tree', tree, '-p', 'HEAD', '-m', `topic ${i}`])).stdout.trim();
    return `${commit}:refs/heads/topic-${i}`;
  });
  must(yuki.git(['push', '-q', '--no-verify', 'origin', ...topics]));
  must(aria.git(['fetch', '-q', 'origin']));
  assert.is(must(aria.git(['rev-parse', 'origin/topic-29'])).stdout.trim(), topics[29]!.split(':')[0]);
  const requests = await http.requests();
  assert.ok(
    requests.some((r) => r.path.endsWith('/git-receive-pack') && r.chunked && r.status === 200),
    'a chunked push was served',
  );
  assert.ok(
    requests.some((r) => r.path.endsWith('/git-upload-pack') && r.encoding === 'gzip' && r.status === 200),
    'a gzip-compressed fetch request was served',
  );
});

test('SSH, a server that accepts and never answers: the gate warns within its bound, blocks when told to, and no ssh is left', async () => {
  fetchFrom(elena, silent.sshUrl, ssh.url);
  const tip = commitOne(elena, 'consortium/elena-vasquez/analysis.md');
  const warned = timedPush(elena);
  assert.is(warned.code, 0, warned.stderr);
  assert.match(
    offlineLine(warned.stderr),
    /could not read the coordination state from the remote \(origin did not answer within 3s\); checked against what is known here\./,
  );
  assert.ok(warned.seconds < BOUND_S, `the push took ${warned.seconds}s`);
  assert.is(onRemote(`refs/heads/${branch(elena)}`), tip);
  await noneLeft(silent);

  offlineBlocks(elena);
  const before = onRemote(`refs/heads/${branch(elena)}`);
  commitOne(elena, 'consortium/elena-vasquez/analysis.md');
  const blocked = timedPush(elena);
  assert.is(blocked.code, 1, blocked.stderr);
  assert.match(
    offlineLine(blocked.stderr),
    /origin did not answer within 3s\); policy\.offline is block, so the push stops here\./,
  );
  assert.ok(blocked.seconds < BOUND_S, `the push took ${blocked.seconds}s`);
  assert.is(onRemote(`refs/heads/${branch(elena)}`), before, 'the blocked commit did not reach the remote');
  await noneLeft(silent);
  restore(elena, ssh.url);
});

test('HTTP, a server that accepts and never answers: the same, and no git-remote-http is left', async () => {
  fetchFrom(yuki, silent.httpUrl, http.url);
  const tip = commitOne(yuki, 'consortium/yuki-tanaka/latency.md');
  const warned = timedPush(yuki);
  assert.is(warned.code, 0, warned.stderr);
  assert.match(
    offlineLine(warned.stderr),
    /\(origin did not answer within 3s\); checked against what is known here\./,
  );
  assert.ok(warned.seconds < BOUND_S, `the push took ${warned.seconds}s`);
  assert.is(onRemote(`refs/heads/${branch(yuki)}`), tip);
  await noneLeft(silent);

  offlineBlocks(yuki);
  const before = onRemote(`refs/heads/${branch(yuki)}`);
  commitOne(yuki, 'consortium/yuki-tanaka/latency.md');
  const blocked = timedPush(yuki);
  assert.is(blocked.code, 1, blocked.stderr);
  assert.match(offlineLine(blocked.stderr), /policy\.offline is block, so the push stops here\./);
  assert.ok(blocked.seconds < BOUND_S, `the push took ${blocked.seconds}s`);
  assert.is(onRemote(`refs/heads/${branch(yuki)}`), before);
  await noneLeft(silent);
  restore(yuki, http.url);
});

test("SSH, a server that asks for a password: no prompt, no wait, one line saying why, even with the user's own GIT_SSH_COMMAND", async () => {
  passwordSsh.login(elena);
  fetchFrom(elena, passwordSsh.url, ssh.url);
  // An ssh allowed to ask would run this askpass (no terminal needed) and wait on it.
  const wouldAsk = { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' };
  for (const env of [wouldAsk, { ...wouldAsk, GIT_SSH_COMMAND: 'ssh -o IdentitiesOnly=yes' }]) {
    const tip = commitOne(elena, 'consortium/elena-vasquez/analysis.md');
    const r = timedPush(elena, env);
    assert.is(r.code, 0, r.stderr);
    assert.match(
      offlineLine(r.stderr),
      /could not read the coordination state from the remote \(.*Permission denied \(password,keyboard-interactive\)\.\); checked against what is known here\./,
    );
    assert.not.match(r.stderr, /password:/);
    assert.not.ok(
      existsSync(askpassLog),
      `ssh asked: ${existsSync(askpassLog) && readFileSync(askpassLog, 'utf8')}`,
    );
    assert.ok(r.seconds < BOUND_S, `the push took ${r.seconds}s`);
    assert.is(onRemote(`refs/heads/${branch(elena)}`), tip);
  }
  await noneLeft(passwordSsh);
  restore(elena, ssh.url);
});

test('HTTP, a server that asks for a password: no prompt, no hang, one line saying why', async () => {
  // Yuki's credential store has nothing for this server; the url below gives a wrong password.
  for (const [url, reason] of [
    [asking.url, /could not read Username for 'http:\/\/127\.0\.0\.1:\d+': terminal prompts disabled\)/],
    [
      asking.url.replace('://', '://yuki-tanaka:wrong@'),
      /Authentication failed for 'http:\/\/127\.0\.0\.1:\d+\/remote\.git\/'\)/,
    ],
  ] as const) {
    fetchFrom(yuki, url, http.url);
    const tip = commitOne(yuki, 'consortium/yuki-tanaka/latency.md');
    const r = timedPush(yuki);
    assert.is(r.code, 0, r.stderr);
    assert.match(offlineLine(r.stderr), reason, r.stderr);
    assert.not.match(r.stderr, /^(Username|Password) for /m, 'nothing was asked');
    assert.ok(r.seconds < BOUND_S, `the push took ${r.seconds}s`);
    assert.is(onRemote(`refs/heads/${branch(yuki)}`), tip);
  }
  assert.ok((await asking.stats()).requests.length >= 2, 'the gate did ask the server');
  await noneLeft(asking);
  restore(yuki, http.url);
});

test('a link that trickles one byte a second, over HTTP and over SSH: the gate gives up within its bound', async () => {
  const slowHttp = await net.slowLink(http);
  fetchFrom(yuki, slowHttp.url, http.url);
  const httpTip = commitOne(yuki, 'consortium/yuki-tanaka/latency.md');
  const overHttp = timedPush(yuki);
  assert.is(overHttp.code, 0, overHttp.stderr);
  assert.match(offlineLine(overHttp.stderr), /could not read the coordination state from the remote \(.+\)/);
  assert.ok(overHttp.seconds < BOUND_S, `the push took ${overHttp.seconds}s`);
  assert.is(onRemote(`refs/heads/${branch(yuki)}`), httpTip);
  assert.ok((await slowHttp.stats()).accepted >= 1, 'the gate went through the slow link');
  await noneLeft(slowHttp);
  restore(yuki, http.url);

  const slowSsh = await net.slowLink(ssh);
  ssh.login(elena, 'elena-vasquez', { alias: 'slow-ssh', port: slowSsh.port });
  fetchFrom(elena, ssh.urlFor('slow-ssh'), ssh.url);
  const sshTip = commitOne(elena, 'consortium/elena-vasquez/analysis.md');
  const overSsh = timedPush(elena);
  assert.is(overSsh.code, 0, overSsh.stderr);
  assert.match(offlineLine(overSsh.stderr), /could not read the coordination state from the remote \(.+\)/);
  assert.ok(overSsh.seconds < BOUND_S, `the push took ${overSsh.seconds}s`);
  assert.is(onRemote(`refs/heads/${branch(elena)}`), sshTip);
  assert.ok((await slowSsh.stats()).accepted >= 1, 'the gate went through the slow link');
  await noneLeft(slowSsh, 'slow-ssh');
  restore(elena, ssh.url);
  await slowHttp.stop();
  await slowSsh.stop();
});

test("a key given only in core.sshCommand, or by a GIT_SSH program, is the one the gate's fetch uses", () => {
  // Her alias names no key: the repository's core.sshCommand does, as a user with two keys has it.
  ssh.login(elena, 'elena-vasquez', { alias: 'keyless-ssh', identity: false });
  const key = path.join(world.env('elena').HOME!, '.ssh', 'id_ed25519_elena-vasquez');
  must(elena.git(['config', 'remote.origin.url', ssh.urlFor('keyless-ssh')]));
  must(elena.git(['config', 'core.sshCommand', `ssh -i '${key}'`]));
  // Yuki's live session changed protocol/spec.md, which Elena has not synced since: only a
  // gate that read the remote knows it, and stops her change of the same file.
  const before = onRemote(`refs/heads/${branch(elena)}`);
  commitOne(elena, 'protocol/spec.md', '# Protocol\n\nelena: stricter statistics\n');
  const blocked = elena.git(['push', '-u', 'origin', 'HEAD']);
  assert.is(blocked.code, 1, blocked.stderr);
  assert.not.match(blocked.stderr, 'could not read the coordination state');
  assert.match(blocked.stderr, /push blocked/);
  assert.match(blocked.stderr, /protocol\/spec\.md/);
  assert.match(blocked.stderr, /yuki-tanaka/);
  assert.is(onRemote(`refs/heads/${branch(elena)}`), before);
  must(elena.git(['reset', '-q', '--hard', 'HEAD~1']));
  must(elena.git(['config', '--unset', 'core.sshCommand']));

  // A GIT_SSH program (run without a shell, so its path may hold anything) gives the key as well.
  const program = path.join(world.root, "elena's tools", 'ssh');
  mkdirSync(path.dirname(program), { recursive: true });
  writeFileSync(program, `#!/bin/sh\nexec ssh -i '${key}' "$@"\n`, { mode: 0o755 });
  const synced = elena.gc(['sync'], { env: { GIT_SSH: program } });
  assert.is(synced.code, 0, synced.stderr);
  assert.not.match(synced.stderr, /cannot reach|could not|Permission denied/i);
  must(elena.git(['config', 'remote.origin.url', ssh.url]));
});

test.run();
