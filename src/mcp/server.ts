import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { gateJson } from '../commands/gates.js';
import { openContext } from '../context/context.js';
import { findCurrentSession } from '../context/current-session.js';
import { resolveIdentity } from '../context/identity.js';
import { ConsortiumError } from '../core/errors.js';
import { editVerdict, repoPath } from '../services/edit-check.js';
import { gatesView } from '../services/gates.js';
import { coordinationView, sessionJson } from '../services/view.js';
import { version } from '../version.js';
import { firstError, runToolkit } from './toolkit.js';

/**
 * `mcp serve` (SPEC section 10): the toolkit as an MCP server over stdio, for agents. Reading
 * tools call the services the CLI commands use, in this process; the tools that change the
 * coordination run the CLI itself, so they take exactly the path a person's command takes
 * (identity, current session, sharing with the remote, refusals and their exit codes).
 */
type Args = Record<string, unknown>;
type ToolResult = { content: { type: 'text'; text: string }[]; isError?: boolean };

interface Tool {
  name: string;
  description: string;
  inputSchema: { type: 'object'; properties: Record<string, object>; required?: string[] };
  run(args: Args): Promise<unknown>;
}

const SESSION = { type: 'string', description: 'The session to act on (default: the current one).' };
const RESEARCHER = { type: 'string', description: 'Who you are (default: as the CLI decides).' };
const CLI_TIMEOUT_MS = 60_000;

/** A tool failure the agent should read: the CLI's own message, and what it means. */
class ToolFailure extends Error {}

async function cli(args: string[], input?: string): Promise<unknown> {
  const result = await runToolkit(args, { cwd: process.cwd(), timeoutMs: CLI_TIMEOUT_MS, input });
  if (result.code !== 0) {
    const meaning =
      { 1: 'refused by the coordination state', 2: 'bad input', 3: 'environment problem' }[result.code] ??
      'failed';
    throw new ToolFailure(`git consortium ${args[0]} ${meaning}: ${firstError(result)}`);
  }
  try {
    return JSON.parse(result.stdout);
  } catch {
    return { output: result.stdout.trim() };
  }
}

const str = (args: Args, key: string): string | undefined => {
  const v = args[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ToolFailure(`${key} must be a string.`);
  return v;
};
const bool = (args: Args, key: string): boolean => {
  const v = args[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new ToolFailure(`${key} must be true or false.`);
  return v;
};
const strings = (args: Args, key: string): string[] => {
  const v = args[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === ''))
    throw new ToolFailure(`${key} must be a list of paths.`);
  return v as string[];
};
/** Flags for the CLI; values go after `=`, so none can be read as another option. */
const flag = (name: string, value: string | undefined) => (value === undefined ? [] : [`--${name}=${value}`]);

export const TOOLS: Tool[] = [
  {
    name: 'status',
    description:
      "Every researcher's live sessions (all states with all=true), the leases held and the conflicts between sessions, as `git consortium status --json` prints them.",
    inputSchema: { type: 'object', properties: { all: { type: 'boolean' } } },
    async run(args) {
      const ctx = await openContext();
      const view = coordinationView(ctx);
      return {
        researcher: resolveIdentity(ctx)?.id ?? null,
        sessions: (bool(args, 'all') ? view.sessions : view.live).map(sessionJson),
        leases: view.leases,
        conflicts: view.conflicts,
      };
    },
  },
  {
    name: 'orient',
    description:
      'Who you are: researcher, role, workspace, context excerpt, gates owned and awaited, your and others’ sessions, your latest handoff and alerts.',
    inputSchema: { type: 'object', properties: { researcher: RESEARCHER } },
    run: (args) => cli(['orient', '--json', ...flag('researcher', str(args, 'researcher'))]),
  },
  {
    name: 'may_edit',
    description:
      'Whether a file may be edited now by your session: denied when another session holds a lease on it, with warnings for protocol files other live sessions changed and for other researchers’ workspaces.',
    inputSchema: {
      type: 'object',
      properties: { path: { type: 'string', description: 'A path in the repository.' }, session: SESSION },
      required: ['path'],
    },
    async run(args) {
      const file = str(args, 'path');
      if (!file) throw new ToolFailure('path is required.');
      const ctx = await openContext();
      return editVerdict(
        ctx,
        repoPath(ctx, file),
        findCurrentSession(ctx, { flag: str(args, 'session'), quiet: true }),
      );
    },
  },
  {
    name: 'lease_acquire',
    description:
      'Takes exclusive advisory leases on files or patterns for your session (needs the remote). Refused when another session holds an overlapping lease.',
    inputSchema: {
      type: 'object',
      properties: {
        paths: { type: 'array', items: { type: 'string' }, minItems: 1 },
        ttl: { type: 'string', description: 'Time to live such as 30m or 2h.' },
        reason: { type: 'string' },
        session: SESSION,
      },
      required: ['paths'],
    },
    run(args) {
      const paths = strings(args, 'paths');
      if (paths.length === 0) throw new ToolFailure('paths needs at least one path or pattern.');
      return cli([
        'lease',
        'acquire',
        '--json',
        ...flag('ttl', str(args, 'ttl')),
        ...flag('reason', str(args, 'reason')),
        ...flag('session', str(args, 'session')),
        '--',
        ...paths,
      ]);
    },
  },
  {
    name: 'lease_release',
    description: 'Releases leases of your session: the paths given, or all of them with all=true.',
    inputSchema: {
      type: 'object',
      properties: {
        paths: { type: 'array', items: { type: 'string' } },
        all: { type: 'boolean' },
        session: SESSION,
      },
    },
    run(args) {
      const paths = strings(args, 'paths');
      const all = bool(args, 'all');
      if (all === paths.length > 0) throw new ToolFailure('Give either paths or all=true.');
      return cli([
        'lease',
        'release',
        '--json',
        ...(all ? ['--all'] : []),
        ...flag('session', str(args, 'session')),
        ...(all ? [] : ['--', ...paths]),
      ]);
    },
  },
  {
    name: 'handoff',
    description:
      'Writes the structured handoff of your session (what changed, protocol impact, gates, conflicts and leases, your summary, next steps), for the next session to start from.',
    inputSchema: {
      type: 'object',
      properties: {
        summary: { type: 'string', description: 'What you did, what you learned, what is open.' },
        next: { type: 'array', items: { type: 'string' }, description: 'Next steps, one per item.' },
        session: SESSION,
      },
    },
    run: (args) =>
      cli(
        [
          'handoff',
          '--json',
          '--summary-file',
          '-',
          ...strings(args, 'next').flatMap((step) => flag('next', step)),
          ...flag('session', str(args, 'session')),
        ],
        str(args, 'summary') ?? '',
      ),
  },
  {
    name: 'sync',
    description:
      'Exchanges the coordination state with the remote (sessions, leases, gates, notes) and reports what changed for you.',
    inputSchema: { type: 'object', properties: {} },
    run: () => cli(['sync', '--json']),
  },
  {
    name: 'gates',
    description: 'The gate-and-key framework: every gate with its owner, requirements, status and history.',
    inputSchema: { type: 'object', properties: {} },
    async run() {
      return { gates: gatesView(await openContext()).gates.map(gateJson) };
    },
  },
];

export async function callTool(name: string, args: Args): Promise<ToolResult> {
  const tool = TOOLS.find((t) => t.name === name);
  if (!tool) return failure(`There is no tool ${JSON.stringify(name)}; tools/list names them.`);
  try {
    const value = await tool.run(args ?? {});
    return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }] };
  } catch (error) {
    if (error instanceof ToolFailure || error instanceof ConsortiumError) return failure(error.message);
    return failure(`unexpected error: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const failure = (text: string): ToolResult => ({ content: [{ type: 'text', text }], isError: true });

export async function serve(): Promise<void> {
  const server = new Server(
    { name: 'git-consortium', version },
    {
      capabilities: { tools: {} },
      instructions:
        'Coordination of researchers and agent sessions on this git repository. Call may_edit before changing a file, orient at the start, handoff before you stop.',
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: TOOLS.map(({ name, description, inputSchema }) => ({ name, description, inputSchema })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request) =>
    callTool(request.params.name, (request.params.arguments ?? {}) as Args),
  );
  // Serve until the client goes away (it closes our input, or the transport closes).
  const closed = new Promise<void>((resolve) => {
    server.onclose = resolve;
    process.stdin.on('end', resolve);
  });
  await server.connect(new StdioServerTransport());
  await closed;
}
