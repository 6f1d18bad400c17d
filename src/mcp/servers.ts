import { readFileSync } from 'node:fs';
import path from 'node:path';
import { usageError } from '../core/errors.js';

/**
 * The MCP servers a project declares in `.mcp.json` (Claude Code's project scope):
 * `{"mcpServers": {"name": {"command", "args", "env", "cwd"} | {"type": "http"|"sse", "url", "headers"}}}`.
 * A server without `type` is a stdio server. `${VAR}` and `${VAR:-default}` are expanded from
 * the environment in commands, arguments, environment values, URLs and headers, as Claude Code does.
 */
export type ServerSpec =
  | {
      name: string;
      transport: 'stdio';
      command: string;
      args: string[];
      env: Record<string, string>;
      cwd?: string;
    }
  | { name: string; transport: 'http' | 'sse'; url: string; headers: Record<string, string> };

export interface ServerList {
  /** The file, relative to the top of the worktree. */
  file: string;
  /** False when the file does not exist: no server is configured. */
  found: boolean;
  servers: ServerSpec[];
}

/** Reads the servers of `file` (relative to `root`, the worktree top). A malformed file is a usage error naming it. */
export function readServers(root: string, file: string, env: NodeJS.ProcessEnv = process.env): ServerList {
  let text: string;
  try {
    text = readFileSync(path.join(root, file), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { file, found: false, servers: [] };
    throw usageError(`${file} could not be read: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw usageError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const fail = (key: string, expected: string): never => {
    throw usageError(`Invalid ${file}: ${key}: expected ${expected}.`);
  };
  if (!isObject(raw)) fail('(top level)', 'an object with "mcpServers"');
  const top = raw as Record<string, unknown>;
  if (top.mcpServers === undefined) return { file, found: true, servers: [] };
  if (!isObject(top.mcpServers)) fail('mcpServers', 'an object of servers by name');
  const servers: ServerSpec[] = [];
  for (const [name, value] of Object.entries(top.mcpServers as Record<string, unknown>)) {
    const key = `mcpServers.${name}`;
    if (!isObject(value)) fail(key, 'an object');
    const s = value as Record<string, unknown>;
    const type = s.type ?? 'stdio';
    const expand = (v: string) => expandVariables(v, env);
    const strings = (v: unknown, k: string): Record<string, string> => {
      if (v === undefined) return {};
      if (!isObject(v) || Object.values(v as object).some((x) => typeof x !== 'string'))
        fail(`${key}.${k}`, 'an object of strings');
      return Object.fromEntries(Object.entries(v as Record<string, string>).map(([a, b]) => [a, expand(b)]));
    };
    if (type === 'stdio') {
      if (typeof s.command !== 'string' || !s.command) fail(`${key}.command`, 'a command to run');
      if (s.args !== undefined && (!Array.isArray(s.args) || s.args.some((a) => typeof a !== 'string')))
        fail(`${key}.args`, 'a list of strings');
      if (s.cwd !== undefined && typeof s.cwd !== 'string') fail(`${key}.cwd`, 'a folder');
      servers.push({
        name,
        transport: 'stdio',
        command: expand(s.command as string),
        args: ((s.args as string[] | undefined) ?? []).map(expand),
        env: strings(s.env, 'env'),
        cwd: typeof s.cwd === 'string' ? path.resolve(root, expand(s.cwd)) : undefined,
      });
    } else if (type === 'http' || type === 'sse' || type === 'streamable-http') {
      if (typeof s.url !== 'string') fail(`${key}.url`, 'the URL of the server');
      const url = expand(s.url as string);
      if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))
        fail(`${key}.url`, 'an http:// or https:// URL');
      servers.push({
        name,
        transport: type === 'sse' ? 'sse' : 'http',
        url,
        headers: strings(s.headers, 'headers'),
      });
    } else {
      fail(`${key}.type`, 'stdio, http or sse');
    }
  }
  return { file, found: true, servers };
}

/** `${VAR}` and `${VAR:-default}`; an unset variable without a default becomes empty. */
export function expandVariables(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (_m, name: string, fallback?: string) => {
      const value = env[name];
      return value !== undefined && value !== '' ? value : (fallback ?? '');
    },
  );
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
