import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { openContext } from '../context/context.js';
import { findCurrentSession, requireCurrentSession } from '../context/current-session.js';
import { requireIdentity, resolveIdentity } from '../context/identity.js';
import { durationArg } from '../core/duration.js';
import { ConsortiumError } from '../core/errors.js';
import type { Caller } from '../core/remedies.js';
import { editVerdictJson, gateJson, handoffJson, orientationJson, sessionJson } from '../render/json.js';
import { withRemedies } from '../render/remedies.js';

import { editVerdict, repoPath } from '../services/edit-check.js';

import { gatesView } from '../services/gates.js';

import { writeHandoff } from '../services/handoff.js';

import { acquireLeases, leasePattern, refuseMissing, releaseLeases } from '../services/leases.js';

import { orientationOf } from '../services/orientation.js';
import { sync } from '../services/sync.js';

import { coordinationView } from '../services/view.js';
import { version } from '../version.js';
import { CheckedStdioTransport } from './server-transport.js';

/** Whoever calls a tool is an agent, and reads the way out in tools, not commands. */
const MCP_CALLER: Caller = { actor: 'agent', via: 'mcp' };

/**
 * `mcp serve` (SPEC section 10): the toolkit as an MCP server over stdio, for agents. Every
 * tool calls the services the CLI commands call, in this process, so a tool and the command of
 * the same name decide alike. Paths are read from the top of the repository (as status shows
 * them) or absolute, whatever folder Claude Code started the server in; refusals say what to
 * do in terms of these tools.
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
const PATHS = 'Paths from the top of the repository, as status shows them (protocol/spec.md), or absolute.';

/** A tool failure the agent should read. */
class ToolFailure extends Error {}

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

/** `lines: [first, last]`, 1-based and inclusive, as a span; undefined when not given. */
function lineRange(args: Args): { first: number; count: number } | undefined {
  const v = args.lines;
  if (v === undefined || v === null) return undefined;
  const valid = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1;
  if (!Array.isArray(v) || v.length !== 2 || !valid(v[0]) || !valid(v[1]) || v[1] < v[0])
    throw new ToolFailure(
      'lines must be [first, last]: two line numbers from 1, the first not after the last.',
    );
  return { first: v[0], count: v[1] - v[0] + 1 };
}

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
    async run(args) {
      const ctx = await openContext();
      return orientationJson(orientationOf(ctx, requireIdentity(ctx, str(args, 'researcher'))));
    },
  },
  {
    name: 'may_edit',
    description:
      'Whether a file may be edited now by your session: denied when another session holds a lease on it (naming the holder), with warnings for protocol files other live sessions changed, for other researchers’ workspaces, and, given the lines you will change, for lines another live session changed there.',
    inputSchema: {
      type: 'object',
      properties: {
        path: { type: 'string', description: `A file: ${PATHS}` },
        lines: {
          type: 'array',
          items: { type: 'integer', minimum: 1 },
          minItems: 2,
          maxItems: 2,
          description: 'The first and last line you will change, as the file numbers them now.',
        },
        session: SESSION,
      },
      required: ['path'],
    },
    async run(args) {
      const file = str(args, 'path');
      if (!file) throw new ToolFailure('path is required.');
      const span = lineRange(args);
      const ctx = await openContext();
      const verdict = editVerdict(
        ctx,
        repoPath(ctx, file, ctx.repo.top),
        findCurrentSession(ctx, { flag: str(args, 'session'), quiet: true }),
        span ? () => [span] : undefined,
      );
      return editVerdictJson(verdict, MCP_CALLER);
    },
  },
  {
    name: 'lease_acquire',
    description:
      'Takes exclusive advisory leases on files or patterns for your session (needs the remote). Refused when another session holds an overlapping lease.',
    inputSchema: {
      type: 'object',
      properties: {
        paths: {
          type: 'array',
          items: { type: 'string' },
          minItems: 1,
          description: `Files or patterns: ${PATHS}`,
        },
        ttl: { type: 'string', description: 'Time to live such as 30m or 2h.' },
        reason: { type: 'string' },
        allow_missing: { type: 'boolean', description: 'Lease paths that do not exist yet.' },
        session: SESSION,
      },
      required: ['paths'],
    },
    async run(args) {
      const paths = strings(args, 'paths');
      if (paths.length === 0) throw new ToolFailure('paths needs at least one path or pattern.');
      const ttl = str(args, 'ttl');
      const reason = str(args, 'reason')?.trim() || null;
      const ctx = await openContext();
      const session = requireCurrentSession(ctx, str(args, 'session'));
      const wanted = paths.map((input) => ({ input, pattern: leasePattern(ctx, input, ctx.repo.top) }));
      if (args?.allow_missing !== true) refuseMissing(ctx, wanted, 'allow_missing: true');
      const result = await acquireLeases(ctx, session, {
        patterns: [...new Set(wanted.map((w) => w.pattern))],
        ttlMs: ttl === undefined ? ctx.config.sessions.leaseTtlMs : durationArg('ttl', ttl),
        reason,
        force: false,
      });
      return { session: session.id, leases: result.leases };
    },
  },
  {
    name: 'lease_release',
    description: 'Releases leases of your session: the paths given, or all of them with all=true.',
    inputSchema: {
      type: 'object',
      properties: {
        paths: { type: 'array', items: { type: 'string' }, description: PATHS },
        all: { type: 'boolean' },
        session: SESSION,
      },
    },
    async run(args) {
      const paths = strings(args, 'paths');
      const all = bool(args, 'all');
      if (all === paths.length > 0) throw new ToolFailure('Give either paths or all=true.');
      const ctx = await openContext();
      const session = requireCurrentSession(ctx, str(args, 'session'));
      const patterns = all ? 'all' : [...new Set(paths.map((p) => leasePattern(ctx, p, ctx.repo.top)))];
      const result = await releaseLeases(ctx, session, patterns);
      if (patterns !== 'all' && result.released.length === 0)
        throw new ToolFailure(
          `Session ${session.id} holds no lease on ${result.notHeld.join(', ')}; nothing was released.`,
        );
      return { session: session.id, released: result.released, notHeld: result.notHeld };
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
    async run(args) {
      const ctx = await openContext();
      const session = requireCurrentSession(ctx, str(args, 'session'));
      const written = await writeHandoff(ctx, session, {
        summary: str(args, 'summary') ?? '',
        next: strings(args, 'next'),
      });
      return { ...handoffJson(written.handoff), noted: written.noted, shared: written.shared.ok };
    },
  },
  {
    name: 'sync',
    description:
      'Exchanges the coordination state with the remote (sessions, leases, gates, notes) and reports what changed for you.',
    inputSchema: { type: 'object', properties: {} },
    async run() {
      const ctx = await openContext();
      return sync(ctx, { rebase: false });
    },
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
    if (error instanceof ConsortiumError)
      return failure(withRemedies(error.message, error.remedies, MCP_CALLER));
    if (error instanceof ToolFailure) return failure(error.message);
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
  await server.connect(new CheckedStdioTransport());
  await closed;
}
