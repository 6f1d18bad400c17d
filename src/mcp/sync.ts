import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { openContext } from '../context/context.js';
import { type Config, resolveConfig } from '../core/config.js';
import { ConsortiumError } from '../core/errors.js';
import { loadConfig } from '../core/load-config.js';
import { checkHealth, type HealthReport, type Mode } from './health.js';
import { readServers } from './servers.js';
import { firstError, runToolkit } from './toolkit.js';

/**
 * `mcp sync` (SPEC section 10): MCP health first, then the git `sync` whatever the health,
 * and when git cannot be used either, an emergency `checkpoint`. Every step is bounded and
 * every failure is an outcome to print: this is what an agent runs when things are broken.
 */
export interface Project {
  top: string;
  config: Config;
  /** Why git could not open the repository, when it could not. */
  gitProblem?: string;
}

/**
 * The project around `cwd`: through git when git works, else the nearest folder holding
 * `.git` (the configuration still read from it when possible, else the defaults).
 * With `strict`, a configuration error is thrown rather than replaced by the defaults.
 */
export async function locateProject(cwd: string, strict: boolean): Promise<Project> {
  try {
    const ctx = await openContext(cwd);
    return { top: ctx.repo.top, config: ctx.config };
  } catch (error) {
    if (!(error instanceof ConsortiumError)) throw error;
    if (strict && error.exitCode === 2) throw error;
    let top = path.resolve(cwd);
    for (let dir = top; ; dir = path.dirname(dir)) {
      if (existsSync(path.join(dir, '.git'))) {
        top = dir;
        break;
      }
      if (path.dirname(dir) === dir) break;
    }
    let config: Config;
    try {
      config = await loadConfig(top);
    } catch (configError) {
      if (strict) throw configError;
      config = resolveConfig(undefined, undefined);
    }
    return { top, config, gitProblem: error.message };
  }
}

export interface McpSyncResult {
  mode: Mode;
  health: HealthReport | null;
  /** Why the health check could not run (an unreadable .mcp.json). */
  healthError: string | null;
  /** `report`: what `sync --json` printed (JSON runs); `output`: what `sync` printed (text runs). */
  git: { ok: boolean; detail: string; report: unknown; output: string | null };
  checkpoint: { written: boolean; file: string | null; detail: string } | null;
}

export const SYNC_TIMEOUT_MS = 60_000;
const CHECKPOINT_TIMEOUT_MS = 15_000;
export const CHECKPOINT_DIR = path.join('.claude', 'emergency-sessions');

export async function mcpSync(cwd: string, options: { json: boolean }): Promise<McpSyncResult> {
  const project = await locateProject(cwd, false);
  let health: HealthReport | null = null;
  let healthError: string | null = null;
  try {
    const list = readServers(project.top, project.config.mcp.config);
    health = await checkHealth(list, { timeoutMs: project.config.mcp.timeoutMs, cwd: project.top });
  } catch (error) {
    healthError = error instanceof Error ? error.message : String(error);
  }
  const mode: Mode = health?.mode ?? 'git';

  const synced = await runToolkit(options.json ? ['sync', '--json'] : ['sync'], {
    cwd,
    timeoutMs: SYNC_TIMEOUT_MS,
  });
  let report: unknown = null;
  if (options.json && synced.code === 0) {
    try {
      report = JSON.parse(synced.stdout);
    } catch {
      report = null;
    }
  }
  const git = {
    ok: synced.code === 0,
    detail: synced.code === 0 ? 'synced with the remote' : firstError(synced),
    report,
    output: options.json ? null : synced.stdout.trimEnd() || null,
  };
  if (git.ok) return { mode, health, healthError, git, checkpoint: null };

  const healthy = health ? `${health.healthy} of ${health.servers.length} MCP servers healthy` : healthError;
  const message = `mcp sync: MCP mode ${mode} (${healthy}); git sync failed: ${git.detail}`;
  const dir = path.join(project.top, CHECKPOINT_DIR);
  const before = new Set(listFiles(dir));
  const written = await runToolkit(['checkpoint', '--message', message], {
    cwd,
    timeoutMs: CHECKPOINT_TIMEOUT_MS,
  });
  const created = listFiles(dir).filter((f) => !before.has(f));
  const file = created.length ? path.join(CHECKPOINT_DIR, created.sort().pop()!) : null;
  const ok = written.code === 0 && file !== null;
  return {
    mode,
    health,
    healthError,
    git,
    checkpoint: {
      written: ok,
      file: ok ? file : null,
      detail: ok
        ? `wrote ${file}`
        : written.code === 0
          ? 'the checkpoint command wrote no file'
          : firstError(written),
    },
  };
}

function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.md'));
  } catch {
    return [];
  }
}
