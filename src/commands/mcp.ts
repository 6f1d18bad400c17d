import { parse } from '../core/args.js';
import { type CommandSpec, pick } from '../core/command.js';
import { EXIT, usageError } from '../core/errors.js';
import { colors, print, printJson } from '../core/output.js';
import type { HealthReport, ServerHealth } from '../mcp/health.js';
import type { McpSyncResult } from '../mcp/sync.js';
import { listVerbs } from './verbs.js';

/** What `mcp` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'mcp',
  usage: ['mcp health [--json]', 'mcp sync [--json]', 'mcp serve'],
  summary: 'MCP health check, MCP-resilient sync, and the MCP server',
  details: `health: a real MCP handshake (initialize, initialized, ping) with every server of .mcp.json
(stdio and HTTP) within mcp.timeout; a server that does not answer in time is stopped. Prints
each server's name, version, protocol and latency, and the mode: mcp (all healthy), hybrid
(some), git (none, or none configured). Exits 0 when no server failed, 1 otherwise.
sync: health, then git sync whatever the health; if git cannot be used either, an emergency
checkpoint. Prints the mode and what it did; exits 0 when the sync or the checkpoint saved
the state, 3 when neither could.
serve: an MCP server over stdio for agents, with the tools status, orient, may_edit,
lease_acquire, lease_release, handoff, sync and gates. Add it to .mcp.json as
{"command": "git", "args": ["consortium", "mcp", "serve"]}.`,
  examples: [
    { run: 'mcp health', says: 'whether the servers of .mcp.json answer a real handshake' },
    { run: 'mcp sync', says: 'health, then sync, or an emergency checkpoint when git fails too' },
  ],
  options: {
    json: { type: 'boolean' },
  },
} as const satisfies CommandSpec;

/**
 * `mcp health | sync | serve` (SPEC section 10). The MCP SDK is loaded only here, and only
 * by the subcommand that needs it, so no other command pays for it.
 */
export async function run(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  switch (verb) {
    case 'health':
      return health(rest);
    case 'sync':
      return sync(rest);
    case 'serve': {
      parse(command.name, rest, pick(command, []));
      const { serve } = await import('../mcp/server.js');
      await serve();
      return EXIT.ok;
    }
    case undefined:
      return listVerbs(command);
    default:
      throw usageError(
        `git consortium mcp takes health, sync or serve, not ${JSON.stringify(verb)}. See git consortium help mcp.`,
      );
  }
}

async function health(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, command.options);
  const [{ locateProject }, { readServers }, { checkHealth }] = await Promise.all([
    import('../mcp/sync.js'),
    import('../mcp/servers.js'),
    import('../mcp/health.js'),
  ]);
  const project = await locateProject(process.cwd(), true);
  const list = readServers(project.top, project.config.mcp.config);
  const report = await checkHealth(list, { timeoutMs: project.config.mcp.timeoutMs, cwd: project.top });
  if (values.json) printJson(report);
  else printHealth(report, list.found);
  return report.servers.every((s) => s.ok) ? EXIT.ok : EXIT.refused;
}

async function sync(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, command.options);
  const { mcpSync } = await import('../mcp/sync.js');
  const result = await mcpSync(process.cwd(), { json: !!values.json });
  if (values.json) printJson(result);
  else printSync(result);
  // Something was saved (shared through git, or checkpointed): the agent can carry on.
  return result.git.ok || result.checkpoint?.written ? EXIT.ok : EXIT.environment;
}

const MODE_MEANING = {
  mcp: 'every MCP server answered: use them, and git for the coordination as usual',
  hybrid: 'some MCP servers answered: use those, and do the rest through git',
  git: 'no MCP server is usable: coordinate through git alone',
} as const;

function printHealth(report: HealthReport, found: boolean): void {
  const c = colors();
  const timeout = `${report.timeoutMs / 1000}s`;
  if (!report.configured) {
    print(
      found
        ? `${report.file} declares no MCP servers: mode ${c.bold('git')}.`
        : `No ${report.file} here, so no MCP servers are configured: mode ${c.bold('git')}.`,
    );
    return;
  }
  print(
    `${c.bold(`Mode ${report.mode}`)}: ${report.healthy} of ${report.servers.length} MCP server${report.servers.length === 1 ? '' : 's'} in ${report.file} answered within ${timeout}.`,
  );
  for (const s of report.servers) print(serverLine(s, c));
}

function serverLine(s: ServerHealth, c: ReturnType<typeof colors>): string {
  if (!s.ok) return `  ${c.red('FAIL')}  ${s.name} (${s.transport}): ${s.error}`;
  const who = [s.serverName, s.serverVersion].filter(Boolean).join(' ');
  return `  ${c.green('ok  ')}  ${s.name} (${s.transport}): ${who || 'unnamed server'}, protocol ${s.protocolVersion ?? 'unknown'}, ${s.latencyMs} ms (ping ${s.pingMs} ms)`;
}

function printSync(r: McpSyncResult): void {
  const c = colors();
  const servers = r.health?.servers ?? [];
  const counted = r.health?.configured
    ? ` (${r.health.healthy} of ${servers.length} MCP servers healthy)`
    : r.healthError
      ? ` (${r.healthError})`
      : ' (no MCP servers configured)';
  print(`${c.bold(`Mode: ${r.mode}`)}${counted}: ${MODE_MEANING[r.mode]}.`);
  for (const s of servers) print(serverLine(s, c));
  print(r.git.ok ? `git sync: ${c.green('done')}.` : `git sync: ${c.red('failed')}: ${bare(r.git.detail)}.`);
  if (r.git.ok && r.git.output) print(r.git.output.replace(/^/gm, '  '));
  if (r.checkpoint)
    print(
      r.checkpoint.written
        ? `Emergency checkpoint: ${r.checkpoint.detail}; the next start or sync folds it back into the session.`
        : `Emergency checkpoint: ${c.red('not written')}: ${bare(r.checkpoint.detail)}.`,
    );
}

/** A message without its final full stop, to end a sentence of our own. */
const bare = (text: string) => text.replace(/\.+$/, '');
