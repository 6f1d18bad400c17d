import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { version } from '../version.js';
import type { ServerList, ServerSpec } from './servers.js';
import { GroupStdioTransport } from './stdio-transport.js';

/**
 * `mcp health` (SPEC section 10): a real MCP handshake with every declared server
 * (`initialize`, `notifications/initialized`, then `ping`), all at once, each within the
 * configured time. A server that never answers is stopped when its time is up: the check
 * itself can never hang.
 */
export type Mode = 'mcp' | 'hybrid' | 'git';

export interface ServerHealth {
  name: string;
  transport: ServerSpec['transport'];
  ok: boolean;
  /** Time for the whole handshake, from start (or connection) to the answer to ping. */
  latencyMs: number | null;
  /** Round trip of the ping alone. */
  pingMs: number | null;
  serverName: string | null;
  serverVersion: string | null;
  protocolVersion: string | null;
  error: string | null;
}

export interface HealthReport {
  file: string;
  configured: boolean;
  timeoutMs: number;
  mode: Mode;
  healthy: number;
  servers: ServerHealth[];
}

/** `mcp` when every server answered, `hybrid` when some did, `git` when none did or none is declared. */
export function modeOf(servers: Pick<ServerHealth, 'ok'>[]): Mode {
  const healthy = servers.filter((s) => s.ok).length;
  if (servers.length === 0 || healthy === 0) return 'git';
  return healthy === servers.length ? 'mcp' : 'hybrid';
}

export interface CheckOptions {
  timeoutMs: number;
  /** Where stdio servers start (the top of the worktree, as Claude Code starts them). */
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

export async function checkHealth(list: ServerList, options: CheckOptions): Promise<HealthReport> {
  const servers = await Promise.all(list.servers.map((spec) => checkServer(spec, options)));
  return {
    file: list.file,
    configured: list.servers.length > 0,
    timeoutMs: options.timeoutMs,
    mode: modeOf(servers),
    healthy: servers.filter((s) => s.ok).length,
    servers,
  };
}

class TimedOut extends Error {}

export async function checkServer(spec: ServerSpec, options: CheckOptions): Promise<ServerHealth> {
  const result: ServerHealth = {
    name: spec.name,
    transport: spec.transport,
    ok: false,
    latencyMs: null,
    pingMs: null,
    serverName: null,
    serverVersion: null,
    protocolVersion: null,
    error: null,
  };
  const env = options.env ?? process.env;
  let stdio: GroupStdioTransport | undefined;
  let transport: Transport;
  if (spec.transport === 'stdio') {
    stdio = new GroupStdioTransport({
      command: spec.command,
      args: spec.args,
      env: { ...env, ...spec.env },
      cwd: spec.cwd ?? options.cwd,
    });
    transport = stdio;
  } else if (spec.transport === 'http') {
    transport = new StreamableHTTPClientTransport(new URL(spec.url), {
      requestInit: { headers: spec.headers },
    });
  } else {
    transport = new SSEClientTransport(new URL(spec.url), { requestInit: { headers: spec.headers } });
  }
  // The client tells the transport the protocol version agreed in `initialize`: listen in.
  let agreed: string | undefined;
  const tell = transport.setProtocolVersion?.bind(transport);
  transport.setProtocolVersion = (v: string) => {
    agreed = v;
    tell?.(v);
  };
  const client = new Client({ name: 'git-consortium', version }, { capabilities: {} });
  let step = 'start';
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimedOut()), options.timeoutMs);
  });
  const handshake = (async () => {
    step = 'initialize';
    await client.connect(transport, { timeout: options.timeoutMs });
    step = 'ping';
    const pingStart = performance.now();
    await client.ping({ timeout: options.timeoutMs });
    result.pingMs = round(performance.now() - pingStart);
  })();
  // Whatever the race, the loser must not become an unhandled rejection.
  handshake.catch(() => {});
  try {
    await Promise.race([handshake, deadline]);
    result.ok = true;
    result.latencyMs = round(performance.now() - started);
    const info = client.getServerVersion();
    result.serverName = info?.name ?? null;
    result.serverVersion = info?.version ?? null;
    result.protocolVersion = agreed ?? null;
  } catch (error) {
    result.error = describe(error, step, spec, options.timeoutMs, stdio);
  } finally {
    clearTimeout(timer);
    await Promise.race([transport.close().catch(() => {}), new Promise((r) => setTimeout(r, 1500).unref())]);
  }
  return result;
}

function describe(
  error: unknown,
  step: string,
  spec: ServerSpec,
  timeoutMs: number,
  stdio: GroupStdioTransport | undefined,
): string {
  const seconds = `${timeoutMs / 1000}s`;
  const said = stdio?.lastError();
  const tail = said ? ` (it said: ${said.slice(0, 200)})` : '';
  if (error instanceof TimedOut) {
    const what = step === 'ping' ? 'did not answer ping' : 'did not answer initialize';
    return `${what} within ${seconds}; stopped it${tail}`;
  }
  const err = error as NodeJS.ErrnoException;
  if (err.code === 'ENOENT' && spec.transport === 'stdio') return `command not found: ${spec.command}`;
  if (err.code === 'EACCES' && spec.transport === 'stdio')
    return `cannot run ${spec.command}: permission denied`;
  const message = (err?.message ?? String(error)).split('\n')[0] ?? 'failed';
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code === 'ECONNREFUSED')
    return `connection refused at ${spec.transport === 'stdio' ? '' : spec.url}`;
  if (/Connection closed/i.test(message)) return `the server closed the connection during ${step}${tail}`;
  return `${step} failed: ${message}${cause?.message ? ` (${cause.message})` : ''}${tail}`;
}

const round = (ms: number) => Math.round(ms * 10) / 10;
