import path from 'node:path';
import { parseDuration } from './duration.js';
import { usageError } from './errors.js';
import { isGateId, researcherIdProblem, shown } from './ids.js';

/**
 * The consortium's configuration (SPEC section 3): every key optional, defaults filled in,
 * and anything invalid reported as one error naming the file, the key path and what was
 * expected.
 */
export type PolicyAction = 'block' | 'warn' | 'off';
/** May an agent push past the gate itself: never, with a person's approval, or freely. */
export type AgentOverride = 'block' | 'ask' | 'allow';
export type ConflictKind = 'lease' | 'protocol' | 'merge' | 'foreign' | 'worktree';

export interface Researcher {
  id: string;
  name?: string;
  role?: string;
  workspace: string;
  owns: string[];
  context?: string;
  /** Public signing keys ("ssh-ed25519 AAAA..."), for the server's `identity: signed`. */
  keys: string[];
}

/** How the server's gate knows who pushes (SPEC section 13): nobody, a signed push, or a host's variable. */
export type ServerIdentity = 'none' | 'signed' | 'gitolite' | 'gitea' | 'gitlab';
/** The kinds the server's gate decides itself (it fetches nothing, so `offline` is not one). */
export type ServerKind = 'lease' | 'protocol' | 'merge' | 'foreign';
export const SERVER_KINDS: readonly ServerKind[] = ['lease', 'protocol', 'merge', 'foreign'];

export interface Gate {
  id: string;
  title?: string;
  owner?: string;
  requires: string[];
  unlocks?: string;
  description?: string;
}

export interface Config {
  /** The file it came from, relative to the worktree top; undefined when there is none. */
  file?: string;
  workspaces: string;
  /** Listed explicitly in the file; when false, researchers are the workspace folders. */
  researchersListed: boolean;
  researchers: Map<string, Researcher>;
  protocol: string[];
  gates: Map<string, Gate>;
  defaultBranch?: string;
  sessions: {
    branchPrefix: string;
    staleAfterMs: number;
    leaseTtlMs: number;
    /** Ended and merged sessions finished longer ago than this move to the archive. */
    archiveAfterMs: number;
  };
  policy: {
    lease: PolicyAction;
    protocol: PolicyAction;
    merge: PolicyAction;
    foreign: PolicyAction;
    offline: PolicyAction;
    /** An edit meets lines another live session changed (at edit time). */
    lines: PolicyAction;
    agentOverride: AgentOverride;
  };
  /** The gate on the server (SPEC section 13), read from the default branch there. */
  server: {
    /** Per kind: `server.policy` where given, else `policy`. */
    policy: Record<ServerKind, PolicyAction>;
    identity: ServerIdentity;
    forceUnlock: 'refuse' | 'allow';
    onError: 'refuse' | 'allow';
  };
  remote: string;
  mcp: { config: string; timeoutMs: number };
}

export const CONFIG_PLACES = [
  'package.json',
  '.consortiumrc',
  '.consortiumrc.json',
  '.consortiumrc.yaml',
  '.consortiumrc.yml',
  '.consortiumrc.js',
  '.consortiumrc.cjs',
  '.consortiumrc.mjs',
  'consortium.config.js',
  'consortium.config.cjs',
  'consortium.config.mjs',
  'consortium.config.json',
  'consortium.config.yaml',
];

type Raw = Record<string, unknown>;

const DEFAULT_POLICY: Record<ServerKind, PolicyAction> = {
  lease: 'block',
  protocol: 'block',
  merge: 'warn',
  foreign: 'warn',
};

class ConfigReader {
  constructor(readonly file: string) {}

  fail(keyPath: string, expected: string, value?: unknown): never {
    const got = value === undefined ? '' : `, got ${describe(value)}`;
    throw usageError(
      `Invalid configuration in ${this.file}: ${keyPath || '(top level)'}: expected ${expected}${got}.`,
    );
  }

  object(value: unknown, keyPath: string, allowed: string[]): Raw {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      this.fail(keyPath, 'a mapping', value);
    for (const key of Object.keys(value as Raw)) {
      if (!allowed.includes(key)) {
        this.fail(
          keyPath ? `${keyPath}.${key}` : key,
          `one of the known keys (${allowed.join(', ')}); this key is unknown`,
        );
      }
    }
    return value as Raw;
  }

  string(value: unknown, keyPath: string): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.length === 0) this.fail(keyPath, 'a non-empty string', value);
    return value;
  }

  strings(value: unknown, keyPath: string): string[] {
    if (value === undefined) return [];
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list)) this.fail(keyPath, 'a list of strings', value);
    return list.map((item, i) => this.string(item, `${keyPath}[${i}]`)!);
  }

  duration(value: unknown, keyPath: string, fallback: number): number {
    if (value === undefined) return fallback;
    const ms = typeof value === 'string' ? parseDuration(value) : undefined;
    if (ms === undefined || ms <= 0) this.fail(keyPath, 'a duration such as 90s, 30m, 2h or 1d', value);
    return ms;
  }

  policy(value: unknown, keyPath: string, fallback: PolicyAction): PolicyAction {
    if (value === undefined) return fallback;
    if (value !== 'block' && value !== 'warn' && value !== 'off')
      this.fail(keyPath, 'block, warn or off', value);
    return value;
  }

  oneOf<T extends string>(value: unknown, keyPath: string, allowed: readonly T[], fallback: T): T {
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || !allowed.includes(value as T))
      this.fail(keyPath, allowed.join(', ').replace(/, ([^,]*)$/, ' or $1'), value);
    return value as T;
  }

  /** An OpenSSH public key line: its type and base64 body (a comment may follow). */
  publicKey(value: string, keyPath: string): string {
    const [type = '', body = ''] = value.trim().split(/\s+/);
    if (
      !/^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)$/.test(
        type,
      ) ||
      !/^[A-Za-z0-9+/]+={0,2}$/.test(body)
    )
      this.fail(keyPath, 'an OpenSSH public key such as "ssh-ed25519 AAAA..."', value);
    return `${type} ${body}`;
  }

  relativePath(value: unknown, keyPath: string): string | undefined {
    const text = this.string(value, keyPath);
    if (text === undefined) return undefined;
    const normal = path.posix.normalize(text).replace(/\/+$/, '');
    if (path.posix.isAbsolute(normal) || normal === '..' || normal.startsWith('../')) {
      this.fail(keyPath, 'a path inside the repository', value);
    }
    return normal;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return shown(value);
  return String(value);
}

/** Builds the configuration from the loaded document (undefined: no file, all defaults). */
export function resolveConfig(raw: unknown, file: string | undefined): Config {
  const r = new ConfigReader(file ?? 'the configuration');
  const top = r.object(raw ?? {}, '', [
    'workspaces',
    'researchers',
    'protocol',
    'gates',
    'defaultBranch',
    'sessions',
    'policy',
    'remote',
    'mcp',
    'server',
  ]);

  const workspaces = r.relativePath(top.workspaces, 'workspaces') ?? 'consortium/*';
  if (workspaces.split('/').filter((s) => s === '*').length !== 1 || /[?[\]{}]|\*\*/.test(workspaces)) {
    r.fail('workspaces', 'a folder pattern with exactly one "*" segment, such as consortium/*', workspaces);
  }

  const researchers = new Map<string, Researcher>();
  if (top.researchers !== undefined && top.researchers !== null) {
    const list = r.object(top.researchers, 'researchers', Object.keys(top.researchers as Raw));
    for (const [id, value] of Object.entries(list)) {
      const problem = researcherIdProblem(id);
      if (problem) r.fail(`researchers.${id}`, problem.replace(/^a /, 'a valid id: a '));
      const key = `researchers.${id}`;
      const entry = r.object(value ?? {}, key, ['name', 'role', 'workspace', 'owns', 'context', 'keys']);
      researchers.set(id, {
        id,
        name: r.string(entry.name, `${key}.name`),
        role: r.string(entry.role, `${key}.role`),
        workspace: r.relativePath(entry.workspace, `${key}.workspace`) ?? workspaces.replace('*', id),
        owns: r.strings(entry.owns, `${key}.owns`),
        context: r.relativePath(entry.context, `${key}.context`),
        keys: r.strings(entry.keys, `${key}.keys`).map((k, i) => r.publicKey(k, `${key}.keys[${i}]`)),
      });
    }
  }
  const researchersListed = top.researchers !== undefined && top.researchers !== null;

  const gates = new Map<string, Gate>();
  const rawGates =
    top.gates === undefined || top.gates === null
      ? {}
      : r.object(top.gates, 'gates', Object.keys(top.gates as Raw));
  for (const [id, value] of Object.entries(rawGates)) {
    const key = `gates.${id}`;
    if (!isGateId(id)) r.fail(key, 'a gate id of 1 to 64 letters, digits, ".", "_" or "-"');
    const entry = r.object(value ?? {}, key, ['title', 'owner', 'requires', 'unlocks', 'description']);
    const owner = r.string(entry.owner, `${key}.owner`);
    if (owner !== undefined && researchersListed && !researchers.has(owner)) {
      r.fail(
        `${key}.owner`,
        `a researcher listed under researchers (${[...researchers.keys()].join(', ')})`,
        owner,
      );
    }
    if (owner !== undefined && researcherIdProblem(owner))
      r.fail(`${key}.owner`, 'a valid researcher id', owner);
    gates.set(id, {
      id,
      title: r.string(entry.title, `${key}.title`),
      owner,
      requires: r.strings(entry.requires, `${key}.requires`),
      unlocks: r.string(entry.unlocks, `${key}.unlocks`),
      description: r.string(entry.description, `${key}.description`),
    });
  }
  for (const gate of gates.values()) {
    gate.requires.forEach((req, i) => {
      if (!gates.has(req)) r.fail(`gates.${gate.id}.requires[${i}]`, 'a gate declared under gates', req);
    });
  }
  const cycle = findCycle(gates);
  if (cycle)
    r.fail(
      `gates.${cycle[0]}.requires`,
      `gates that do not require each other in a cycle (${cycle.join(' -> ')})`,
    );

  const sessions = r.object(top.sessions ?? {}, 'sessions', [
    'branchPrefix',
    'staleAfter',
    'leaseTtl',
    'archiveAfter',
  ]);
  const branchPrefix = r.string(sessions.branchPrefix, 'sessions.branchPrefix') ?? 'claude-';
  if (
    !/^[A-Za-z0-9._/-]{1,40}$/.test(branchPrefix) ||
    branchPrefix.includes('..') ||
    branchPrefix.startsWith('-')
  ) {
    r.fail(
      'sessions.branchPrefix',
      'a branch name prefix of letters, digits, ".", "_", "/" or "-"',
      branchPrefix,
    );
  }
  const policy = r.object(top.policy ?? {}, 'policy', [
    'lease',
    'protocol',
    'merge',
    'foreign',
    'offline',
    'lines',
    'agentOverride',
  ]);
  const agentOverride = (policy.agentOverride ?? 'block') as AgentOverride;
  if (!['block', 'ask', 'allow'].includes(agentOverride))
    r.fail('policy.agentOverride', 'block, ask or allow', agentOverride);
  const mcp = r.object(top.mcp ?? {}, 'mcp', ['config', 'timeout']);
  const server = r.object(top.server ?? {}, 'server', ['policy', 'identity', 'forceUnlock', 'onError']);
  const serverPolicy = r.object(server.policy ?? {}, 'server.policy', [...SERVER_KINDS]);
  const defaultBranch = r.string(top.defaultBranch, 'defaultBranch');
  if (defaultBranch !== undefined && !/^[A-Za-z0-9._/-]+$/.test(defaultBranch))
    r.fail('defaultBranch', 'a branch name', defaultBranch);
  const remote = r.string(top.remote, 'remote') ?? 'origin';
  if (!/^[A-Za-z0-9._-]+$/.test(remote) || remote.startsWith('-'))
    r.fail('remote', 'the name of a git remote', remote);

  return {
    file,
    workspaces,
    researchersListed,
    researchers,
    protocol: r.strings(top.protocol, 'protocol'),
    gates,
    defaultBranch,
    sessions: {
      branchPrefix,
      staleAfterMs: r.duration(sessions.staleAfter, 'sessions.staleAfter', 30 * 60_000),
      leaseTtlMs: r.duration(sessions.leaseTtl, 'sessions.leaseTtl', 2 * 3_600_000),
      archiveAfterMs: r.duration(sessions.archiveAfter, 'sessions.archiveAfter', 7 * 86_400_000),
    },
    policy: {
      lease: r.policy(policy.lease, 'policy.lease', DEFAULT_POLICY.lease),
      protocol: r.policy(policy.protocol, 'policy.protocol', DEFAULT_POLICY.protocol),
      merge: r.policy(policy.merge, 'policy.merge', DEFAULT_POLICY.merge),
      foreign: r.policy(policy.foreign, 'policy.foreign', DEFAULT_POLICY.foreign),
      offline: r.policy(policy.offline, 'policy.offline', 'warn'),
      lines: r.policy(policy.lines, 'policy.lines', 'warn'),
      agentOverride,
    },
    server: {
      policy: Object.fromEntries(
        SERVER_KINDS.map((kind) => [
          kind,
          r.policy(
            serverPolicy[kind],
            `server.policy.${kind}`,
            r.policy(policy[kind], `policy.${kind}`, DEFAULT_POLICY[kind]),
          ),
        ]),
      ) as Record<ServerKind, PolicyAction>,
      identity: r.oneOf(
        server.identity,
        'server.identity',
        ['none', 'signed', 'gitolite', 'gitea', 'gitlab'],
        'none',
      ),
      forceUnlock: r.oneOf(server.forceUnlock, 'server.forceUnlock', ['refuse', 'allow'], 'refuse'),
      onError: r.oneOf(server.onError, 'server.onError', ['refuse', 'allow'], 'refuse'),
    },
    remote,
    mcp: {
      config: r.relativePath(mcp.config, 'mcp.config') ?? '.mcp.json',
      timeoutMs: r.duration(mcp.timeout, 'mcp.timeout', 3000),
    },
  };
}

/**
 * When researchers are not listed they are the workspace folders, which only the worktree
 * knows: a gate's owner is checked against them once they are found.
 */
export function checkGateOwners(config: Config, researchers: Map<string, Researcher>): void {
  for (const gate of config.gates.values()) {
    if (gate.owner === undefined || researchers.has(gate.owner)) continue;
    const known = [...researchers.keys()];
    throw usageError(
      `Invalid configuration in ${config.file ?? 'the configuration'}: gates.${gate.id}.owner: expected a researcher ` +
        `(a workspace folder matching ${config.workspaces}${known.length ? `: ${known.join(', ')}` : ''}), got ${shown(gate.owner)}.`,
    );
  }
}

/** A cycle among `requires`, as the list of gate ids around it, or undefined. */
export function findCycle(gates: Map<string, Gate>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const trail: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'visiting') return [...trail.slice(trail.indexOf(id)), id];
    state.set(id, 'visiting');
    trail.push(id);
    for (const req of gates.get(id)?.requires ?? []) {
      const found = visit(req);
      if (found) return found;
    }
    trail.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of gates.keys()) {
    const found = visit(id);
    if (found) return found;
  }
  return undefined;
}
