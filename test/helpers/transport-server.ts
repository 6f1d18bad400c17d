import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';

/**
 * The server side of test/helpers/transports.ts, in a process of its own: the tests run git
 * with spawnSync, which blocks their event loop, so a server in the test's own process could
 * not answer the git it waits for. transports.ts forks this program (through tsx) and asks it,
 * over the IPC channel, to start and stop servers on 127.0.0.1. When that channel closes (the
 * test ended, or died), every server stops and every process it started is killed.
 *
 * Request: `{ id, op: 'start', spec }`, `{ id, op: 'stats', server }`, `{ id, op: 'stop', server }`.
 * Answer: `{ id, ok: true, result }` or `{ id, ok: false, error }`.
 */
export type ServerSpec =
  /** git http-backend as CGI, behind basic auth: one password per researcher, derived from `secret`. */
  | { kind: 'http'; projectRoot: string; secret: string; env: Record<string, string> }
  /** Accepts TCP connections and never says a word. */
  | { kind: 'silent' }
  /** An HTTP server that answers every request with 401 and a basic-auth challenge. */
  | { kind: 'asking' }
  /** A TCP proxy to `target` that passes the server's answer on `bytes` bytes every `intervalMs`. */
  | { kind: 'slow'; target: number; intervalMs: number; bytes: number }
  /** /usr/sbin/sshd -D with `config` (everything but its listening address, which is chosen here). */
  | { kind: 'sshd'; sshd: string; config: string; log: string };

export interface HttpRequestLog {
  method: string;
  path: string;
  query: string;
  /** The researcher the request authenticated as; absent when it did not. */
  user?: string;
  status: number;
  /** The request's body came in chunks (Transfer-Encoding: chunked: git's large pushes). */
  chunked: boolean;
  /** Its Content-Encoding (gzip: git's larger fetch negotiations), when it had one. */
  encoding?: string;
}

export interface ServerStats {
  /** Connections open now. */
  open: number;
  /** Connections accepted since the start. */
  accepted: number;
  /** HTTP servers: every request, in order. */
  requests: HttpRequestLog[];
}

/** The password of `user` for an HTTP server started with `secret` (transports.ts derives the same). */
export const passwordOf = (secret: string, user: string) =>
  createHash('sha256').update(`${secret}\0${user}`).digest('hex').slice(0, 24);

const RESEARCHER = /^[a-z0-9][a-z0-9._-]{0,63}$/;

interface Running {
  port: number;
  stats: ServerStats;
  stop(): Promise<void>;
}

const servers = new Map<number, Running>();
const children = new Set<ChildProcess>();
let nextId = 1;

/** Listens on a free loopback port; tracks every connection, and destroys them all on close. */
function listen(server: net.Server, stats: ServerStats): Promise<Running> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    stats.accepted++;
    stats.open++;
    sockets.add(socket);
    socket.on('close', () => {
      stats.open--;
      sockets.delete(socket);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({
        port,
        stats,
        stop: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

const newStats = (): ServerStats => ({ open: 0, accepted: 0, requests: [] });

/** Starts `command` in a process group of its own, remembered so that it is killed on the way out. */
function startChild(command: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): ChildProcess {
  const child = spawn(command, args, { env, cwd, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  child.on('close', () => children.delete(child));
  child.on('error', () => children.delete(child));
  return child;
}

function killGroup(child: ChildProcess) {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

// ---------------------------------------------------------------------------------------------
// Smart HTTP: git http-backend as CGI (RFC 3875), as a web server in front of git runs it.

function startHttp(spec: Extract<ServerSpec, { kind: 'http' }>): Promise<Running> {
  const stats = newStats();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const entry: HttpRequestLog = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search,
      status: 0,
      chunked: /chunked/i.test(req.headers['transfer-encoding'] ?? ''),
      ...(req.headers['content-encoding'] && { encoding: req.headers['content-encoding'] }),
    };
    stats.requests.push(entry);
    const user = authenticated(req.headers.authorization, spec.secret);
    if (!user) {
      entry.status = 401;
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="consortium"', 'Content-Type': 'text/plain' });
      res.end('Authentication required\n');
      req.resume();
      return;
    }
    entry.user = user;
    const env: NodeJS.ProcessEnv = {
      ...spec.env,
      GIT_PROJECT_ROOT: spec.projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
      SERVER_SOFTWARE: 'git-consortium-tests',
      SERVER_NAME: '127.0.0.1',
      SERVER_PORT: String((req.socket.address() as net.AddressInfo).port),
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ''),
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      REMOTE_USER: user,
      AUTH_TYPE: 'Basic',
      // As gitolite does over HTTP: the server's hooks know the pusher by GL_USER.
      GL_USER: user,
    };
    if (req.headers['content-type']) env.CONTENT_TYPE = req.headers['content-type'];
    // A chunked body has no length: http-backend then reads to the end of its input.
    if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
    // Every header as HTTP_<NAME>: http-backend reads HTTP_CONTENT_ENCODING (a gzip'd body, which
    // it inflates itself) and HTTP_GIT_PROTOCOL (protocol v2) from there.
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || name === 'authorization' || name === 'proxy-authorization') continue;
      env[`HTTP_${name.toUpperCase().replace(/-/g, '_')}`] = Array.isArray(value) ? value.join(', ') : value;
    }
    const cgi = startChild('git', ['http-backend'], env, spec.projectRoot);
    cgi.stdin!.on('error', () => {});
    req.pipe(cgi.stdin!);
    let head = Buffer.alloc(0);
    let started = false;
    cgi.stdout!.on('data', (chunk: Buffer) => {
      if (started) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = headerEnd(head);
      if (!end) return;
      started = true;
      const { status, headers } = cgiHeaders(head.subarray(0, end.at).toString('latin1'));
      entry.status = status;
      res.writeHead(status, headers);
      res.write(head.subarray(end.at + end.length));
    });
    let stderr = '';
    cgi.stderr!.on('data', (d) => {
      stderr += d;
    });
    cgi.on('close', (code) => {
      if (!started) {
        entry.status = 500;
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`git http-backend exited ${code}: ${stderr}`);
      } else res.end();
    });
    res.on('close', () => {
      if (cgi.exitCode === null) killGroup(cgi);
    });
  });
  return listen(server, stats);
}

function authenticated(header: string | undefined, secret: string): string | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  return RESEARCHER.test(user) && password === passwordOf(secret, user) ? user : undefined;
}

function headerEnd(buffer: Buffer): { at: number; length: number } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, length: 4 };
  if (lf >= 0) return { at: lf, length: 2 };
  return undefined;
}

function cgiHeaders(text: string): { status: number; headers: Record<string, string> } {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
    else headers[name] = value;
  }
  return { status, headers };
}

// ---------------------------------------------------------------------------------------------
// Servers that misbehave.

function startSilent(): Promise<Running> {
  // Reads what it is sent (so the client's writes never block) and answers nothing, ever.
  return listen(
    net.createServer((socket) => {
      socket.on('data', () => {});
      socket.on('error', () => {});
    }),
    newStats(),
  );
}

function startAsking(): Promise<Running> {
  const stats = newStats();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    stats.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search,
      status: 401,
      chunked: false,
    });
    req.resume();
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="consortium"', 'Content-Type': 'text/plain' });
    res.end('Authentication required\n');
  });
  return listen(server, stats);
}

function startSlow(spec: Extract<ServerSpec, { kind: 'slow' }>): Promise<Running> {
  const timers = new Set<NodeJS.Timeout>();
  const server = net.createServer((client) => {
    const upstream = net.connect(spec.target, '127.0.0.1');
    let pending = Buffer.alloc(0);
    const timer = setInterval(() => {
      if (client.destroyed) return;
      if (pending.length === 0) {
        if (upstream.destroyed) end();
        return;
      }
      client.write(pending.subarray(0, spec.bytes));
      pending = pending.subarray(spec.bytes);
    }, spec.intervalMs);
    timers.add(timer);
    const end = () => {
      clearInterval(timer);
      timers.delete(timer);
      client.destroy();
      upstream.destroy();
    };
    // What the client says reaches the server at once; what the server answers, a trickle.
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      pending = Buffer.concat([pending, d]);
    });
    client.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
    // The server may be done long before its answer has trickled through: keep the client's side.
    upstream.on('close', () => {
      if (!client.destroyed && pending.length === 0) end();
    });
  });
  return listen(server, newStats()).then((running) => ({
    ...running,
    stop: async () => {
      for (const t of timers) clearInterval(t);
      await running.stop();
    },
  }));
}

// ---------------------------------------------------------------------------------------------
// OpenSSH's sshd, on a port chosen here.

async function startSshd(spec: Extract<ServerSpec, { kind: 'sshd' }>): Promise<Running> {
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = startChild(
      spec.sshd,
      ['-D', '-f', spec.config, '-o', `ListenAddress=127.0.0.1:${port}`, '-E', spec.log],
      { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' },
    );
    child.stdin!.end();
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      const poll = setInterval(() => {
        if (logged(spec.log).includes(`Server listening on 127.0.0.1 port ${port}`)) done(true);
      }, 25);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        clearInterval(poll);
        resolve(ok);
      };
      child.on('close', () => done(false));
    });
    if (ready) {
      return {
        port,
        stats: newStats(),
        stop: async () => {
          killTree(child.pid!);
          killGroup(child);
        },
      };
    }
    lastError = logged(spec.log).trim().split('\n').slice(-3).join(' / ');
    killGroup(child);
    if (!/Address already in use|Cannot bind/.test(lastError)) break;
  }
  throw new Error(`sshd did not start: ${lastError || 'no output'}`);
}

const logged = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Kills `pid` and everything below it: sshd serves each connection from a child that leaves its
 * process group (the session's git among its children), so killing sshd's group is not enough.
 */
function killTree(pid: number) {
  for (const p of [...descendants(pid), pid]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

function descendants(root: number): number[] {
  const parents = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!parents.has(ppid)) parents.set(ppid, []);
      parents.get(ppid)!.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const child of parents.get(pid) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(root);
  return found;
}

// ---------------------------------------------------------------------------------------------

async function start(spec: ServerSpec): Promise<{ server: number; port: number }> {
  const running =
    spec.kind === 'http'
      ? await startHttp(spec)
      : spec.kind === 'silent'
        ? await startSilent()
        : spec.kind === 'asking'
          ? await startAsking()
          : spec.kind === 'slow'
            ? await startSlow(spec)
            : await startSshd(spec);
  const server = nextId++;
  servers.set(server, running);
  return { server, port: running.port };
}

function shutdown(): never {
  for (const child of children) killGroup(child);
  // Whatever is left below this process (an sshd's connection, a CGI's git).
  for (const pid of descendants(process.pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  process.exit(0);
}

// transports.ts imports this module for its types and passwordOf: only its fork serves.
if (process.send && process.env.CONSORTIUM_TRANSPORT_SERVER === '1') {
  process.on('message', async (message: { id: number; op: string; spec?: ServerSpec; server?: number }) => {
    try {
      let result: unknown;
      if (message.op === 'start') result = await start(message.spec!);
      else if (message.op === 'stats') result = servers.get(message.server!)?.stats ?? newStats();
      else if (message.op === 'stop') {
        await servers.get(message.server!)?.stop();
        servers.delete(message.server!);
      } else throw new Error(`unknown request ${message.op}`);
      process.send!({ id: message.id, ok: true, result });
    } catch (error) {
      process.send!({ id: message.id, ok: false, error: (error as Error).message });
    }
  });
  process.on('disconnect', shutdown);
  process.on('SIGTERM', shutdown);
  process.send({ ready: true });
}
