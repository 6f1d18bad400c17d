import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { modeOf } from '../../src/mcp/health.js';
import { expandVariables, readServers } from '../../src/mcp/servers.js';
import { consortium, json, type Machine, must, type Result } from '../helpers/sandbox.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const HEALTHY = { command: process.execPath, args: [path.join(FIXTURES, 'mcp-healthy.mjs')] };
const SILENT = { command: process.execPath, args: [path.join(FIXTURES, 'mcp-silent.mjs')] };

const { m, world, cleanup } = consortium(['elena', 'yuki']);
const { elena, yuki } = m;

// The MCP timeout of this clone: generous where every server should answer (a loaded machine
// starts Node slowly), short where a silent server has to be waited out.
const CONFIG = path.join(elena.dir, 'consortium.config.yaml');
const BASE_CONFIG = readFileSync(CONFIG, 'utf8');
const mcpTimeout = (duration: string) =>
  writeFileSync(CONFIG, `${BASE_CONFIG}mcp:\n  timeout: ${duration}\n`);
mcpTimeout('10s');
must(elena.git(['commit', '-qam', 'MCP timeout']));

const servers: Server[] = [];
test.after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  cleanup();
});

function mcpJson(machine: Machine, entries: Record<string, unknown>) {
  writeFileSync(path.join(machine.dir, '.mcp.json'), JSON.stringify({ mcpServers: entries }, null, 2));
}

/** Runs the CLI without blocking this process (the HTTP servers live here), failing on a hang. */
async function gc(machine: Machine, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`git consortium ${args.join(' ')} hung`)), 30_000);
  });
  try {
    return await Promise.race([machine.gcAsync(args, { env }), hang]);
  } finally {
    clearTimeout(timer);
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

/** A real Streamable HTTP MCP server (stateless: a fresh server for every request). */
function httpMcpServer(): Server {
  return createServer(async (req, res) => {
    const mcp = new McpServer({ name: 'fixture-http', version: '2.0.0' });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res);
  });
}

test('only mcp loads the MCP SDK: no other command reaches it through its static imports', () => {
  const dist = fileURLToPath(new URL('../../dist/', import.meta.url));
  const importsOf = (file: string) =>
    [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gm)].map(
      (x) => x[1]!,
    );
  const reaches = (file: string, seen = new Set<string>()): boolean => {
    if (seen.has(file)) return false;
    seen.add(file);
    return importsOf(file).some((spec) =>
      spec.startsWith('.')
        ? reaches(path.resolve(path.dirname(file), spec), seen)
        : spec.startsWith('@modelcontextprotocol/'),
    );
  };
  const commands = readdirSync(path.join(dist, 'commands')).filter((f) => f.endsWith('.js'));
  assert.ok(commands.length > 10);
  assert.ok(reaches(path.join(dist, 'mcp', 'health.js')), 'the check can see an SDK import');
  assert.equal(
    commands.filter((f) => f !== 'mcp.js' && reaches(path.join(dist, 'commands', f))),
    [],
  );
  assert.not.ok(reaches(path.join(dist, 'dispatch.js')));
});

/** A server of the older HTTP+SSE transport (type "sse" in .mcp.json). */
function sseMcpServer(): Server {
  const open = new Map<string, SSEServerTransport>();
  return createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/sse') {
      const transport = new SSEServerTransport('/messages', res);
      open.set(transport.sessionId, transport);
      await new McpServer({ name: 'fixture-sse', version: '3.0.0' }).connect(transport);
      return;
    }
    const transport = open.get(url.searchParams.get('sessionId') ?? '');
    if (req.method === 'POST' && transport) return transport.handlePostMessage(req, res);
    res.writeHead(404).end();
  });
}

test('mode: mcp when every server answered, hybrid when some, git when none or none configured', () => {
  assert.is(modeOf([{ ok: true }, { ok: true }]), 'mcp');
  assert.is(modeOf([{ ok: true }, { ok: false }]), 'hybrid');
  assert.is(modeOf([{ ok: false }, { ok: false }]), 'git');
  assert.is(modeOf([]), 'git');
});

test('.mcp.json: variables (with defaults) expanded as Claude Code does; stdio by default', () => {
  const env = { TOKEN: 'abc', EMPTY: '' };
  assert.is(expandVariables(`Bearer \${TOKEN}`, env), 'Bearer abc');
  assert.is(expandVariables(`\${MISSING:-fallback}/\${EMPTY:-x}/\${MISSING}`, env), 'fallback/x/');
  writeFileSync(
    path.join(yuki.dir, 'servers.json'),
    JSON.stringify({
      mcpServers: {
        local: { command: `\${TOOL:-node}`, args: [`--port=\${PORT:-1}`], env: { KEY: `\${TOKEN}` } },
        remote: { type: 'http', url: `http://127.0.0.1:\${PORT:-8080}/mcp`, headers: { auth: `\${TOKEN}` } },
      },
    }),
  );
  const list = readServers(yuki.dir, 'servers.json', env);
  assert.equal(list.servers, [
    {
      name: 'local',
      transport: 'stdio',
      command: 'node',
      args: ['--port=1'],
      env: { KEY: 'abc' },
      cwd: undefined,
    },
    { name: 'remote', transport: 'http', url: 'http://127.0.0.1:8080/mcp', headers: { auth: 'abc' } },
  ]);
});

test('health: a real handshake with a stdio server reports its name, version, protocol and latency', async () => {
  mcpJson(elena, { tools: HEALTHY });
  const r = await gc(elena, ['mcp', 'health', '--json']);
  assert.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.is(report.mode, 'mcp');
  const [s] = report.servers;
  assert.is(s.name, 'tools');
  assert.is(s.transport, 'stdio');
  assert.is(s.ok, true);
  assert.is(s.serverName, 'fixture-healthy');
  assert.is(s.serverVersion, '1.2.3');
  assert.match(s.protocolVersion, /^\d{4}-\d{2}-\d{2}$/);
  assert.ok(s.latencyMs > 0 && s.pingMs >= 0 && s.pingMs <= s.latencyMs);
  assert.is(s.error, null);
  const text = await gc(elena, ['mcp', 'health']);
  assert.match(text.stdout, /Mode mcp: 1 of 1 MCP server in \.mcp\.json answered within 10s/);
  assert.match(text.stdout, /ok\s+tools \(stdio\): fixture-healthy 1\.2\.3, protocol \d{4}-/);
});

test('health: a silent server fails after the timeout, and it and its children are stopped', async () => {
  const pidFile = path.join(world.root, 'silent.pids');
  mcpJson(elena, { tools: HEALTHY, silent: { ...SILENT, env: { PID_FILE: pidFile } } });
  mcpTimeout('2s');
  const r = await gc(elena, ['mcp', 'health', '--json']);
  assert.is(r.code, 1, 'not every server is healthy: exit 1');
  const report = JSON.parse(r.stdout);
  assert.is(report.mode, 'hybrid');
  const silent = report.servers.find((s: any) => s.name === 'silent');
  assert.is(silent.ok, false);
  assert.match(silent.error, /did not answer initialize within 2s/);
  assert.is(report.servers.find((s: any) => s.name === 'tools').ok, true);
  const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
  assert.is(pids.length, 2);
  for (let i = 0; i < 40 && pids.some(alive); i++) await new Promise((res) => setTimeout(res, 50));
  assert.equal(pids.filter(alive), [], 'the silent server and the process it started are gone');
});

test('health: HTTP servers, one answering on 127.0.0.1 and one that accepts and never answers', async () => {
  const good = await listen(httpMcpServer());
  const mute = await listen(createServer(() => {}));
  mcpTimeout('2s');
  const sse = (await listen(sseMcpServer())).replace(/\/mcp$/, '/sse');
  mcpJson(elena, {
    web: { type: 'http', url: good },
    older: { type: 'sse', url: sse },
    mute: { type: 'http', url: mute },
    gone: { command: 'git-consortium-no-such-server' },
    // The toolkit's own server, as a project would declare it.
    consortium: { command: 'git', args: ['consortium', 'mcp', 'serve'] },
  });
  const r = await gc(elena, ['mcp', 'health', '--json']);
  assert.is(r.code, 1);
  const report = JSON.parse(r.stdout);
  const by = (name: string) => report.servers.find((s: any) => s.name === name);
  assert.is(by('web').ok, true, by('web').error);
  assert.is(by('web').transport, 'http');
  assert.is(by('web').serverName, 'fixture-http');
  assert.is(by('web').serverVersion, '2.0.0');
  assert.match(by('web').protocolVersion, /^\d{4}-\d{2}-\d{2}$/);
  assert.is(by('mute').ok, false);
  assert.match(by('mute').error, /within 2s/);
  assert.is(by('gone').ok, false);
  assert.match(by('gone').error, /command not found: git-consortium-no-such-server/);
  assert.is(by('older').ok, true, by('older').error);
  assert.is(by('older').transport, 'sse');
  assert.is(by('older').serverName, 'fixture-sse');
  assert.match(by('older').protocolVersion, /^\d{4}-\d{2}-\d{2}$/);
  assert.is(by('consortium').ok, true, by('consortium').error);
  assert.is(by('consortium').serverName, 'git-consortium');
  assert.is(report.mode, 'hybrid');
});

test('health: no .mcp.json is mode git; a malformed one is a clear error naming it (exit 2)', async () => {
  const none = json(yuki, ['mcp', 'health']);
  assert.is(none.mode, 'git');
  assert.equal(none.servers, []);
  writeFileSync(path.join(yuki.dir, '.mcp.json'), '{"mcpServers": {"x": {"type": "http"}}}');
  const bad = await gc(yuki, ['mcp', 'health']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /Invalid \.mcp\.json: mcpServers\.x\.url/);
  assert.not.match(bad.stderr, /\n\s+at /);
  writeFileSync(path.join(yuki.dir, '.mcp.json'), '{"mcpServers": ');
  const broken = await gc(yuki, ['mcp', 'health']);
  assert.is(broken.code, 2);
  assert.match(broken.stderr, /\.mcp\.json is not valid JSON/);
});

test('mcp sync: health, then git sync; when git cannot be used, an emergency checkpoint', async () => {
  mcpJson(elena, { tools: HEALTHY, silent: SILENT });
  mcpTimeout('2s');
  const emergency = path.join(elena.dir, '.claude', 'emergency-sessions');
  const before = existsSync(emergency) ? readdirSync(emergency) : [];
  // GIT_DIR pointing at nothing: git cannot open the repository at all.
  const r = await gc(elena, ['mcp', 'sync', '--json'], { GIT_DIR: path.join(world.root, 'nowhere') });
  const result = JSON.parse(r.stdout);
  assert.is(result.mode, 'hybrid', 'the health check runs without git');
  assert.is(result.health.healthy, 1);
  assert.is(result.git.ok, false);
  assert.ok(result.checkpoint, 'a checkpoint was attempted');
  assert.is(result.checkpoint.written, true, `checkpoint: ${result.checkpoint.detail}`);
  assert.is(r.code, 0, 'something was saved: the agent can carry on');
  const created = readdirSync(emergency).filter((f) => !before.includes(f));
  assert.is(created.length, 1);
  assert.match(created[0]!, /^session-.*\.md$/);
  assert.match(readFileSync(path.join(emergency, created[0]!), 'utf8'), /MCP mode hybrid/);
  // A missing command fails at once: the text form, without waiting for a silent server again.
  mcpJson(elena, { tools: HEALTHY, gone: { command: 'git-consortium-no-such-server' } });
  const text = await gc(elena, ['mcp', 'sync'], { GIT_DIR: path.join(world.root, 'nowhere') });
  assert.match(text.stdout, /Mode: hybrid \(1 of 2 MCP servers healthy\)/);
  assert.match(text.stdout, /git sync: failed/);
  assert.match(text.stdout, /Emergency checkpoint: wrote \.claude\/emergency-sessions\/session-/);
});

test('mcp sync: with git working it syncs and writes no checkpoint', async () => {
  mcpJson(elena, { tools: HEALTHY });
  mcpTimeout('10s');
  const r = await gc(elena, ['mcp', 'sync', '--json']);
  const result = JSON.parse(r.stdout);
  assert.is(result.mode, 'mcp');
  assert.is(result.git.ok, true, result.git.detail);
  assert.is(result.checkpoint, null);
  assert.ok(result.git.report && typeof result.git.report === 'object', 'the sync report is included');
  assert.is(r.code, 0);
  const text = await gc(elena, ['mcp', 'sync']);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, /^Mode: mcp \(1 of 1 MCP servers healthy\)/);
  assert.match(text.stdout, /git sync: done\.\n {2}\S/, "sync's own report follows, indented");
  assert.not.match(text.stdout, /Emergency checkpoint/);
});

test('mcp serve: tools/list, and status, may_edit and gates calls over stdio', async () => {
  const mine = json(elena, ['start', '-r', 'elena-vasquez', '--intent', 'serve test']);
  const theirs = json(yuki, ['start', '-r', 'yuki-tanaka']);
  yuki.commit('protocol change', { 'protocol/spec.md': '# Protocol\n\nchanged by yuki\n' });
  must(yuki.gc(['heartbeat']));
  must(yuki.gc(['share', `refs/consortium/sessions/${theirs.id}`]));
  must(elena.git(['fetch', '-q', 'origin', '+refs/consortium/*:refs/consortium-remote/*']));
  const client = new Client({ name: 'test', version: '1.0.0' });
  const transport = new StdioClientTransport({
    command: 'git',
    args: ['consortium', 'mcp', 'serve'],
    cwd: elena.dir,
    env: elena.env() as Record<string, string>,
    stderr: 'pipe',
  });
  await client.connect(transport);
  try {
    assert.is(client.getServerVersion()?.name, 'git-consortium');
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    assert.equal(names, [
      'gates',
      'handoff',
      'lease_acquire',
      'lease_release',
      'may_edit',
      'orient',
      'status',
      'sync',
    ]);
    const call = async (name: string, args: Record<string, unknown> = {}) => {
      const result = (await client.callTool({ name, arguments: args })) as any;
      return { error: !!result.isError, text: result.content[0].text as string };
    };
    const status = await call('status');
    assert.is(status.error, false, status.text);
    const parsed = JSON.parse(status.text);
    assert.is(parsed.researcher, 'elena-vasquez');
    assert.equal(parsed.sessions.map((s: any) => s.id).sort(), [mine.id, theirs.id].sort());

    const free = JSON.parse((await call('may_edit', { path: 'src/shared.py' })).text);
    assert.is(free.decision, 'allow');
    assert.is(free.session, mine.id);
    const protocol = JSON.parse((await call('may_edit', { path: 'protocol/spec.md' })).text);
    assert.is(protocol.decision, 'warn');
    assert.equal(protocol.reasons[0].researchers, ['yuki-tanaka']);
    assert.match(protocol.reasons[0].message, /protocol file/);
    const foreign = JSON.parse((await call('may_edit', { path: 'consortium/yuki-tanaka/notes.md' })).text);
    assert.is(foreign.reasons[0].kind, 'foreign');
    const outside = await call('may_edit', { path: '../elsewhere.txt' });
    assert.is(outside.error, true);
    assert.match(outside.text, /not inside the repository/);

    const gates = JSON.parse((await call('gates')).text);
    assert.equal(
      gates.gates.map((g: any) => g.id),
      ['G1', 'G2', 'G3'],
    );
    const leased = await call('lease_acquire', { paths: ['src/shared.py'], ttl: '1h', reason: 'refactor' });
    assert.is(leased.error, false, leased.text);
    assert.ok(JSON.parse(leased.text).leases.some((l: any) => l.pattern === 'src/shared.py'));
    const blocked = JSON.parse((await call('may_edit', { path: 'src/shared.py', session: theirs.id })).text);
    assert.is(blocked.decision, 'deny', 'another session holds the lease');
    assert.is(blocked.allowed, false);
    assert.equal(blocked.reasons[0].researchers, ['elena-vasquez']);
    assert.match(blocked.reasons[0].message, /leased by elena-vasquez/);
    const noPaths = await call('lease_acquire', { paths: [] });
    assert.is(noPaths.error, true);
    const released = await call('lease_release', { all: true });
    assert.is(released.error, false, released.text);
    assert.equal(JSON.parse(released.text).released, ['src/shared.py']);
    const free2 = JSON.parse((await call('may_edit', { path: 'src/shared.py', session: theirs.id })).text);
    assert.is(free2.decision, 'allow');
    const handoff = await call('handoff', { summary: 'Tested the MCP server.', next: ['Merge the branch'] });
    assert.is(handoff.error, false, handoff.text);
    const written = JSON.parse(handoff.text);
    assert.is(written.session, mine.id);
    assert.match(written.markdown, /Tested the MCP server\./);
    assert.match(written.markdown, /Merge the branch/);
    const synced = await call('sync');
    assert.is(synced.error, false, synced.text);

    const oriented = await call('orient');
    assert.is(oriented.error, false, oriented.text);
    const orient = JSON.parse(oriented.text);
    assert.is(orient.researcher, 'elena-vasquez');
    const unknown = await call('no_such_tool');
    assert.is(unknown.error, true);
  } finally {
    await client.close();
  }
  must(elena.gc(['end']));
  must(yuki.gc(['end']));
});

test('mcp serve answers 200 malformed messages as JSON-RPC 2.0 says, in one line each, and keeps serving', async () => {
  const child = spawn('git', ['consortium', 'mcp', 'serve'], { cwd: elena.dir, env: elena.env() });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const replies = () =>
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  // Four kinds, fifty of each: not JSON, not a message, a request without a method, bad params.
  const sent: { line: string; id: number | null; code: number }[] = [];
  for (let i = 0; i < 50; i++) {
    sent.push({ line: `{"jsonrpc":"2.0","id":${i},"method":`, id: null, code: -32700 });
    sent.push({ line: i % 2 ? `[${i}]` : `"${i}"`, id: null, code: -32600 });
    sent.push({
      line: JSON.stringify({ jsonrpc: i % 2 ? '1.0' : '2.0', id: 1000 + i }),
      id: 1000 + i,
      code: -32600,
    });
    sent.push({
      line: JSON.stringify({
        jsonrpc: '2.0',
        id: 2000 + i,
        method: 'initialize',
        params: { protocolVersion: i },
      }),
      id: 2000 + i,
      code: -32602,
    });
  }
  for (const s of sent) child.stdin.write(`${s.line}\n`);
  // Never answered: a notification, even with bad params, and a response, even with id null.
  child.stdin.write(
    `${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized', params: 5 })}\n`,
  );
  child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: null, result: {} })}\n`);
  child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 'after', method: 'ping' })}\n`);
  const until = Date.now() + 15_000;
  while (!replies().some((r) => r.id === 'after') && Date.now() < until)
    await new Promise((r) => setTimeout(r, 50));
  child.kill();
  const got = replies();
  assert.ok(
    got.some((r) => r.id === 'after' && r.result),
    'still serving after them: the ping is answered',
  );
  const errors = got.filter((r) => r.error);
  assert.is(errors.length, sent.length, 'every one of them answered');
  const byCode = (code: number) => errors.filter((r) => r.error.code === code).length;
  assert.equal([byCode(-32700), byCode(-32600), byCode(-32602)], [50, 100, 50]);
  for (const s of sent.filter((x) => x.id !== null))
    assert.ok(
      errors.some((r) => r.id === s.id && r.error.code === s.code),
      `id ${s.id} got ${s.code}`,
    );
  for (const r of errors) assert.not.match(r.error.message, '\n', 'one line');
  // And the SDK's own schema errors are bad params, in one line, not an internal error.
  const bad = spawn('git', ['consortium', 'mcp', 'serve'], { cwd: elena.dir, env: elena.env() });
  let badOut = '';
  bad.stdout.setEncoding('utf8').on('data', (d: string) => (badOut += d));
  bad.stdin.write(
    `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 5 } })}\n`,
  );
  while (!badOut.includes('\n') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  bad.kill();
  const reply = JSON.parse(badOut.split('\n')[0]!);
  assert.is(reply.error.code, -32602);
  assert.is(reply.error.message, 'Invalid params: params.name: expected string, received number.');
});

test.run();
