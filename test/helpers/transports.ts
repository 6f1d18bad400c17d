import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Machine, World } from '../../src/demo/world.js';
import { passwordOf, type ServerSpec, type ServerStats } from './transport-server.js';

/**
 * Real transports for a test World's bare remote (`world.remote`), on 127.0.0.1: OpenSSH's
 * sshd and git's smart HTTP, each knowing the pusher as gitolite does, and servers that
 * misbehave, for the client's bounded network calls.
 *
 *   const net = await transports(world);           // one per World; stop it in test.after
 *   test.after(() => net.stop());
 *
 *   const ssh = await net.ssh();                   // sshd, a key per researcher
 *   const elena = ssh.clone('elena', 'elena-vasquez');   // ssh://consortium-ssh/<world.remote>
 *   const http = await net.http();                 // git http-backend, a password per researcher
 *   const yuki = http.clone('yuki', 'yuki-tanaka');      // credentials in yuki's credential store
 *
 * The pusher's identity reaches the server's git, and so its hooks (pre-receive, update,
 * post-receive in `world.remote/hooks/`), as `GL_USER` in their environment: over SSH from the
 * key used (each key's line in authorized_keys runs a forced command with the researcher's id,
 * as gitolite's does), over HTTP from the basic-auth user (with REMOTE_USER, as gitolite sets
 * it behind a web server). The server's git runs with `HOME` in the sandbox, no system git
 * config, `world.bin` (so `git consortium`) first on PATH, and `options.serverEnv` on top.
 * A server-side gate's test, say:
 *
 *   writeFileSync(path.join(world.remote, 'hooks', 'pre-receive'), '#!/bin/sh\n...', { mode: 0o755 });
 *   elena.git(['push', 'origin', 'HEAD']);         // the hook runs with GL_USER=elena-vasquez
 *   yuki.git(['push', 'origin', 'HEAD']);          // and here with GL_USER=yuki-tanaka
 *
 * Set servers up in test.before inside a try/catch that prints the error: uvu swallows what a
 * before hook throws (see test/e2e/transports.test.ts).
 *
 * API (every `start` is async and memoised per Transports; everything else is synchronous, so
 * it fits between the spawnSync calls of Machine.git):
 *
 * - `transports(world, { serverEnv? })`: a Transports; its servers run in a helper process
 *   (transport-server.ts) that dies with the test, whatever way the test ends.
 * - `net.ssh()`: SshServer. `url` = `ssh://consortium-ssh/<world.remote>`; `login(machine,
 *   researcher, { alias?, port?, identity? })` gives a machine's HOME that researcher's key
 *   (~/.ssh/id_ed25519_<researcher>), the Host alias in ~/.ssh/config (HostName, Port, User,
 *   IdentityFile, IdentitiesOnly, UserKnownHostsFile) and the host key in ~/.ssh/known_hosts;
 *   `clone(machine, researcher)`: login, then a clone over `url`; `urlFor(alias)`;
 *   `keyFile(researcher)`; `hostKey`; `port`.
 * - `net.http()`: HttpServer. `url` = `http://127.0.0.1:<port>/remote.git`; `password(r)`;
 *   `urlFor(r)` with `r:password@` in it; `login(machine, r)` puts the credentials in the
 *   machine's credential store (credential.helper store, ~/.git-credentials); `clone(machine, r)`;
 *   `requests()`: every request served (method, path, user, status, chunked, encoding).
 * - `net.silent()`: accepts TCP connections and never answers: `sshUrl`, `httpUrl`.
 * - `net.askingHttp()`: answers every request with 401 and a basic-auth challenge: `url`.
 * - `net.passwordSsh()`: an sshd that offers only password and keyboard-interactive
 *   authentication (so an ssh allowed to ask would ask): `login(machine)`, `url`.
 * - `net.slowLink(target, { intervalMs?, bytes? })`: a TCP proxy in front of `target` (any
 *   server above) that passes the server's answers on 1 byte a second: `port`, `url` (target's
 *   url through the proxy, for HTTP), and for SSH `ssh.login(machine, r, { alias, port: slow.port })`.
 * - Every server: `port`, `stats()` (connections open and accepted, and requests, counted by
 *   the servers of Node's: every one but the two sshd), `leftovers(...aliases)` (client
 *   processes, ssh or git-remote-http, still talking to it), `stop()`.
 * - `net.stop()`: stops every server and the helper process.
 *
 * sshd must be installed (Debian's openssh-server, /usr/sbin/sshd): without it `net.ssh()` and
 * `net.passwordSsh()` throw, so the test fails and says to install it. As root, sshd needs its
 * privilege separation folder /run/sshd, which is created when missing. OpenSSH reads
 * ~/.ssh from the password database, not from $HOME, and every machine of a World shares one
 * user: so the first SSH server puts an `ssh` into world.bin (first on every machine's PATH)
 * that runs the real one with `-F $HOME/.ssh/config` (or /dev/null), as if each machine's HOME
 * were its user's home. Paths in those files are absolute for the same reason.
 */
export type { HttpRequestLog, ServerStats } from './transport-server.js';

export interface TransportOptions {
  /** More environment for the server's git and its hooks (both transports). */
  serverEnv?: Record<string, string>;
}

interface Server {
  /** The port it listens on, at 127.0.0.1. */
  readonly port: number;
  /** Connections open and accepted so far, and for HTTP servers every request. */
  stats(): Promise<ServerStats>;
  /**
   * Client processes (ssh, git-remote-http) still talking to this server, `pid command` each;
   * `aliases`: also those naming these ssh Host aliases (a slow link's, say).
   */
  leftovers(...aliases: string[]): string[];
  stop(): Promise<void>;
}

export interface SshLogin {
  /** The Host alias to write (default: the server's own, `consortium-ssh`). */
  alias?: string;
  /** Another port for the alias (a proxy in front of this server, such as a slow link). */
  port?: number;
  /** False: no IdentityFile in the alias (the key then comes from elsewhere, core.sshCommand say). */
  identity?: boolean;
}

export interface SshServer extends Server {
  readonly alias: string;
  /** `ssh://<alias>/<world.remote>`: the remote over SSH, for a machine that has logged in. */
  readonly url: string;
  /** The server's public host key, as known_hosts has it (`ssh-ed25519 AAAA...`). */
  readonly hostKey: string;
  urlFor(alias: string): string;
  /** The private key of `researcher` (made on first use, and authorised on this server). */
  keyFile(researcher: string): string;
  login(machine: string | Machine, researcher: string, options?: SshLogin): void;
  clone(machine: string, researcher: string): Machine;
}

export interface HttpServer extends Server {
  /** `http://127.0.0.1:<port>/remote.git`, without credentials. */
  readonly url: string;
  password(researcher: string): string;
  /** The url with `researcher:password@` in it. */
  urlFor(researcher: string): string;
  /** Stores the researcher's credentials in the machine's credential store (credential.helper store). */
  login(machine: string | Machine, researcher: string): void;
  clone(machine: string, researcher: string): Machine;
  requests(): Promise<import('./transport-server.js').HttpRequestLog[]>;
}

export interface SilentServer extends Server {
  /** An ssh:// url to this server (nothing there will ever answer). */
  readonly sshUrl: string;
  readonly httpUrl: string;
}

export interface AskingServer extends Server {
  readonly url: string;
}

export interface PasswordSshServer extends Server {
  readonly alias: string;
  readonly url: string;
  /** The Host alias and the host key in the machine's HOME: all ssh then lacks is a password. */
  login(machine: string | Machine): void;
}

export interface SlowLink extends Server {
  /** The target's url (HTTP) with this proxy's port in it; for SSH, log in with `port`. */
  readonly url: string;
}

export const SSHD = '/usr/sbin/sshd';
const SERVER_PROGRAM = fileURLToPath(new URL('./transport-server.ts', import.meta.url));
const ME = userInfo().username;

/** Every Transports of this process, stopped on the way out whatever happens. */
const live = new Set<Transports>();
process.on('exit', () => {
  for (const t of live) t.kill();
});

export async function transports(world: World, options: TransportOptions = {}): Promise<Transports> {
  const t = new Transports(world, options);
  await t.ready;
  return t;
}

export class Transports {
  readonly dir: string;
  readonly ready: Promise<void>;
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve(v: any): void; reject(e: Error): void }>();
  private requestId = 0;
  private readonly servers: { id: number; stop(): Promise<void> }[] = [];
  private readonly memo = new Map<string, Promise<unknown>>();
  private keys = new Map<string, string>();

  constructor(
    readonly world: World,
    readonly options: TransportOptions = {},
  ) {
    this.dir = path.join(world.root, 'transports');
    mkdirSync(path.join(this.dir, 'keys'), { recursive: true, mode: 0o700 });
    mkdirSync(this.serverHome, { recursive: true });
    const log = path.join(this.dir, 'server.log');
    writeFileSync(log, '');
    // Its own process group: a ^C to the test's terminal leaves it to the channel's close.
    this.child = fork(SERVER_PROGRAM, [], {
      detached: true,
      env: { ...process.env, CONSORTIUM_TRANSPORT_SERVER: '1' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child.stderr!.on('data', (d) => appendFileSync(log, d));
    live.add(this);
    this.ready = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('exit', (code) =>
        reject(new Error(`the transports' server process exited (${code}): ${readFileSync(log, 'utf8')}`)),
      );
      this.child.on('message', (message: any) => {
        if (message?.ready) {
          this.idle();
          resolve();
          return;
        }
        const waiting = this.pending.get(message.id);
        if (!waiting) return;
        this.pending.delete(message.id);
        if (message.ok) waiting.resolve(message.result);
        else waiting.reject(new Error(message.error));
        if (this.pending.size === 0) this.idle();
      });
    });
    this.child.unref();
  }

  /** Environment of the server's git (and its hooks), on both transports. */
  get serverEnv(): Record<string, string> {
    return {
      PATH: `${this.world.bin}${path.delimiter}${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: this.serverHome,
      LANG: 'C',
      GIT_CONFIG_NOSYSTEM: '1',
      ...this.options.serverEnv,
    };
  }

  private get serverHome() {
    return path.join(this.dir, 'server-home');
  }

  /** No request under way: the channel must not keep the test's process alive. */
  private idle() {
    (this.child.channel as { unref?: () => void } | null | undefined)?.unref?.();
  }

  private request<T>(op: string, body: Record<string, unknown>): Promise<T> {
    (this.child.channel as { ref?: () => void } | null | undefined)?.ref?.();
    const id = ++this.requestId;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, op, ...body });
    });
  }

  private async startServer(spec: ServerSpec): Promise<{ id: number; port: number }> {
    const { server, port } = await this.request<{ server: number; port: number }>('start', { spec });
    const entry = { id: server, stop: () => this.request<void>('stop', { server }) };
    this.servers.push(entry);
    return { id: server, port };
  }

  private base(id: number, port: number, names: string[] = []): Server {
    return {
      port,
      stats: () => this.request<ServerStats>('stats', { server: id }),
      leftovers: (...aliases) => clientProcesses([port], [...names, ...aliases], this.child.pid),
      stop: () => this.request<void>('stop', { server: id }),
    };
  }

  private once<T>(key: string, make: () => Promise<T>): Promise<T> {
    if (!this.memo.has(key)) this.memo.set(key, make());
    return this.memo.get(key) as Promise<T>;
  }

  // -------------------------------------------------------------------------------------------
  // SSH

  ssh(): Promise<SshServer> {
    return this.once('ssh', async () => {
      const dir = path.join(this.dir, 'ssh');
      const { port, id, hostKey, authorizedKeys } = await this.startSshd(dir, 'publickey');
      const alias = 'consortium-ssh';
      const authorised = new Set<string>();
      const keyFile = (researcher: string) => {
        const key = this.key(researcher);
        if (!authorised.has(researcher)) {
          authorised.add(researcher);
          // The forced command names the key's researcher, as gitolite's authorized_keys lines do.
          const options = `command="${path.join(dir, 'serve')} ${researcher}",no-pty,no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-user-rc`;
          appendFileSync(authorizedKeys, `${options} ${readFileSync(`${key}.pub`, 'utf8').trim()}\n`);
        }
        return key;
      };
      const server: SshServer = {
        ...this.base(id, port, [alias]),
        alias,
        url: `ssh://${alias}${this.world.remote}`,
        hostKey,
        urlFor: (a) => `ssh://${a}${this.world.remote}`,
        keyFile,
        login: (machine, researcher, login = {}) => {
          const key = keyFile(researcher);
          const home = this.homeOf(machine);
          const sshDir = path.join(home, '.ssh');
          const own = path.join(sshDir, `id_ed25519_${researcher}`);
          mkdirSync(sshDir, { recursive: true, mode: 0o700 });
          if (!existsSync(own)) {
            copyFileSync(key, own);
            chmodSync(own, 0o600);
            copyFileSync(`${key}.pub`, `${own}.pub`);
          }
          const linkPort = login.port ?? port;
          knowHost(sshDir, linkPort, hostKey);
          hostAlias(sshDir, login.alias ?? alias, linkPort, login.identity === false ? undefined : own);
        },
        clone: (machine, researcher) => {
          server.login(machine, researcher);
          return this.world.clone(machine, server.url);
        },
      };
      return server;
    });
  }

  passwordSsh(): Promise<PasswordSshServer> {
    return this.once('password-ssh', async () => {
      const { port, id, hostKey } = await this.startSshd(path.join(this.dir, 'password-ssh'), 'password');
      const alias = 'password-ssh';
      return {
        ...this.base(id, port, [alias]),
        alias,
        url: `ssh://${alias}${this.world.remote}`,
        login: (machine) => {
          const sshDir = path.join(this.homeOf(machine), '.ssh');
          mkdirSync(sshDir, { recursive: true, mode: 0o700 });
          knowHost(sshDir, port, hostKey);
          hostAlias(sshDir, alias, port, undefined);
        },
      };
    });
  }

  /** A researcher's key pair, made once for all servers (`ssh-keygen`, no passphrase). */
  private key(researcher: string): string {
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(researcher))
      throw new Error(`not a researcher id: ${researcher}`);
    let file = this.keys.get(researcher);
    if (!file) {
      file = path.join(this.dir, 'keys', researcher);
      keygen(file, researcher);
      this.keys.set(researcher, file);
    }
    return file;
  }

  private async startSshd(dir: string, auth: 'publickey' | 'password') {
    if (!existsSync(SSHD))
      throw new Error(
        `${SSHD} is missing: the SSH transport tests need an sshd. Install openssh-server (apt-get install openssh-server).`,
      );
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // As root, sshd will not start without its privilege separation folder.
    if (process.getuid?.() === 0 && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });
    const hostKeyFile = path.join(dir, 'host_ed25519');
    keygen(hostKeyFile, 'consortium test host');
    const hostKey = readFileSync(`${hostKeyFile}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
    const authorizedKeys = path.join(dir, 'authorized_keys');
    writeFileSync(authorizedKeys, '', { mode: 0o600 });
    const serve = path.join(dir, 'serve');
    const exports = Object.entries(this.serverEnv)
      .map(([name, value]) => `export ${name}=${shellQuote(value)}\n`)
      .join('');
    writeFileSync(
      serve,
      '#!/bin/sh\n' +
        '# The forced command of every key in authorized_keys (gitolite-shell plays this part for\n' +
        "# gitolite): the key's researcher is $1, and the server's git and its hooks know it as GL_USER.\n" +
        `${exports}GL_USER=$1\nexport GL_USER\nexec git-shell -c "$SSH_ORIGINAL_COMMAND"\n`,
      { mode: 0o755 },
    );
    const config = path.join(dir, 'sshd_config');
    const publickey = auth === 'publickey';
    writeFileSync(
      config,
      [
        `HostKey ${hostKeyFile}`,
        `PidFile ${path.join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${publickey ? authorizedKeys : 'none'}`,
        `AllowUsers ${ME}`,
        'StrictModes no',
        'UsePAM no',
        `PubkeyAuthentication ${publickey ? 'yes' : 'no'}`,
        `PasswordAuthentication ${publickey ? 'no' : 'yes'}`,
        `KbdInteractiveAuthentication ${publickey ? 'no' : 'yes'}`,
        'PermitRootLogin prohibit-password',
        'PermitUserEnvironment no',
        // Protocol v2 reaches the server's git through this variable.
        'AcceptEnv GIT_PROTOCOL',
        // sshd runs the forced command with the user's login shell, and bash then reads the
        // user's ~/.bashrc (their shell setup, not the server's, and often 200 ms of it) unless
        // it is a nested shell.
        'SetEnv SHLVL=1',
        'AllowTcpForwarding no',
        'AllowAgentForwarding no',
        'X11Forwarding no',
        'PrintMotd no',
        'MaxStartups 64',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    const { id, port } = await this.startServer({
      kind: 'sshd',
      sshd: SSHD,
      config,
      log: path.join(dir, 'sshd.log'),
    });
    this.sshWrapper();
    return { id, port, hostKey, authorizedKeys };
  }

  /**
   * OpenSSH finds ~/.ssh through the password database, not $HOME: world.bin gets an `ssh`
   * that reads the machine's own ~/.ssh/config, so each machine is a user of its own.
   */
  private sshWrapper() {
    const wrapper = path.join(this.world.bin, 'ssh');
    if (existsSync(wrapper)) return;
    const real = spawnSync('sh', ['-c', 'command -v ssh'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    }).stdout.trim();
    if (!real) throw new Error('ssh is missing: the SSH transport tests need openssh-client.');
    writeFileSync(
      wrapper,
      '#!/bin/sh\n' +
        "# ssh for a machine of a test World: OpenSSH reads ~/.ssh from the user's entry in the\n" +
        '# password database, and every machine is the same user with a HOME of its own.\n' +
        'config="$HOME/.ssh/config"\n' +
        '[ -f "$config" ] || config=/dev/null\n' +
        `exec ${shellQuote(real)} -F "$config" "$@"\n`,
      { mode: 0o755 },
    );
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  http(): Promise<HttpServer> {
    return this.once('http', async () => {
      const secret = randomBytes(16).toString('hex');
      const { id, port } = await this.startServer({
        kind: 'http',
        projectRoot: path.dirname(this.world.remote),
        secret,
        env: this.serverEnv,
      });
      const base = `http://127.0.0.1:${port}/${path.basename(this.world.remote)}`;
      const password = (researcher: string) => passwordOf(secret, researcher);
      const server: HttpServer = {
        ...this.base(id, port),
        url: base,
        password,
        urlFor: (researcher) => base.replace('://', `://${researcher}:${password(researcher)}@`),
        login: (machine, researcher) => {
          const home = this.homeOf(machine);
          const store = path.join(home, '.git-credentials');
          const line = `http://${researcher}:${password(researcher)}@127.0.0.1:${port}\n`;
          const known = existsSync(store) ? readFileSync(store, 'utf8') : '';
          if (!known.includes(line)) writeFileSync(store, known + line, { mode: 0o600 });
          gitConfigGlobal(this.world, machine, ['credential.helper', 'store']);
        },
        clone: (machine, researcher) => {
          server.login(machine, researcher);
          return this.world.clone(machine, base);
        },
        requests: async () => (await server.stats()).requests,
      };
      return server;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Servers that misbehave

  silent(): Promise<SilentServer> {
    return this.once('silent', async () => {
      const { id, port } = await this.startServer({ kind: 'silent' });
      return {
        ...this.base(id, port),
        sshUrl: `ssh://127.0.0.1:${port}${this.world.remote}`,
        httpUrl: `http://127.0.0.1:${port}/${path.basename(this.world.remote)}`,
      };
    });
  }

  askingHttp(): Promise<AskingServer> {
    return this.once('asking', async () => {
      const { id, port } = await this.startServer({ kind: 'asking' });
      return {
        ...this.base(id, port),
        url: `http://127.0.0.1:${port}/${path.basename(this.world.remote)}`,
      };
    });
  }

  /** Not memoised: one proxy per call. `target` is any server of these Transports. */
  async slowLink(
    target: { port: number; url?: string },
    options: { intervalMs?: number; bytes?: number } = {},
  ): Promise<SlowLink> {
    const { id, port } = await this.startServer({
      kind: 'slow',
      target: target.port,
      intervalMs: options.intervalMs ?? 1000,
      bytes: options.bytes ?? 1,
    });
    return {
      ...this.base(id, port),
      url: (target.url ?? '').replace(`127.0.0.1:${target.port}`, `127.0.0.1:${port}`),
    };
  }

  // -------------------------------------------------------------------------------------------

  private homeOf(machine: string | Machine): string {
    const name = typeof machine === 'string' ? machine : machine.name;
    return this.world.env(name).HOME!;
  }

  /** Stops every server, then the helper process (which kills whatever they left). */
  async stop(): Promise<void> {
    if (!live.has(this)) return;
    try {
      await Promise.race([
        Promise.all(this.servers.map((s) => s.stop().catch(() => {}))),
        new Promise((resolve) => setTimeout(resolve, 5000).unref()),
      ]);
    } finally {
      const exited = new Promise<void>((resolve) => {
        if (this.child.exitCode !== null || this.child.signalCode !== null) resolve();
        else this.child.once('exit', () => resolve());
      });
      this.child.ref();
      if (this.child.connected) this.child.disconnect();
      const timer = setTimeout(() => this.kill(), 5000);
      await exited;
      clearTimeout(timer);
      live.delete(this);
    }
  }

  /** The last resort (process exit): the helper's whole process group, at once. */
  kill(): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(this.child.pid, 'SIGTERM');
    } catch {
      // gone already
    }
  }
}

function keygen(file: string, comment: string) {
  if (existsSync(file)) return;
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], {
    encoding: 'utf8',
  });
  if (r.error || r.status !== 0)
    throw new Error(
      `ssh-keygen failed (${r.error?.message ?? r.stderr.trim()}): the SSH transport tests need openssh-client.`,
    );
}

/** The server's host key in the machine's known_hosts, under the address ssh will ask about. */
function knowHost(sshDir: string, port: number, hostKey: string) {
  const file = path.join(sshDir, 'known_hosts');
  const line = `[127.0.0.1]:${port} ${hostKey}\n`;
  const known = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (!known.includes(line)) writeFileSync(file, known + line, { mode: 0o600 });
}

/** A Host block in the machine's ~/.ssh/config, replacing one of the same alias. */
function hostAlias(sshDir: string, alias: string, port: number, identity: string | undefined) {
  const file = path.join(sshDir, 'config');
  const known = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const blocks = known.split(/^(?=Host )/m).filter((b) => b.trim() && !b.startsWith(`Host ${alias}\n`));
  blocks.push(
    [
      `Host ${alias}`,
      '  HostName 127.0.0.1',
      `  Port ${port}`,
      `  User ${ME}`,
      ...(identity ? [`  IdentityFile ${identity}`] : []),
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${path.join(sshDir, 'known_hosts')}`,
      '',
    ].join('\n'),
  );
  writeFileSync(file, blocks.join(''), { mode: 0o600 });
}

function gitConfigGlobal(world: World, machine: string | Machine, args: string[]) {
  const name = typeof machine === 'string' ? machine : machine.name;
  const r = spawnSync('git', ['config', '--global', ...args], { env: world.env(name), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git config --global ${args.join(' ')} failed: ${r.stderr}`);
}

export const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * Client processes talking to a server: an argument holds `127.0.0.1:<port>` (git-remote-http's
 * url) or is one of `names` (an ssh Host alias), or the arguments hold the address and the port
 * apart (ssh's `-p <port> 127.0.0.1`). The helper process's own tree is not counted.
 */
export function clientProcesses(ports: number[], names: string[], helperPid?: number): string[] {
  const helpers = new Set(helperPid ? [helperPid, ...descendants(helperPid)] : []);
  const found: string[] = [];
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return [];
  }
  const address = new RegExp(`127\\.0\\.0\\.1:(${ports.join('|') || 'none'})(?!\\d)`);
  for (const pid of pids) {
    if (Number(pid) === process.pid || helpers.has(Number(pid))) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      continue;
    }
    const talks =
      argv.some((a) => address.test(a) || names.includes(a)) ||
      (argv.includes('127.0.0.1') && ports.some((p) => argv.includes(String(p))));
    if (talks) found.push(`${pid} ${argv.join(' ')}`);
  }
  return found;
}

function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid)!.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(root);
  return found;
}
