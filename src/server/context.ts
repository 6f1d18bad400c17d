import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Context } from '../context/context.js';
import { CONFIG_PLACES, type Config, type Researcher, resolveConfig } from '../core/config.js';
import { environmentError } from '../core/errors.js';
import { researcherIdProblem } from '../core/ids.js';
import { loadConfig } from '../core/load-config.js';
import { currentBranch, type Repo } from '../git/repo.js';
import { git } from '../git/run.js';

/**
 * Where the server's gate runs: a bare repository (the one git's hook runs in, or --repo),
 * with the configuration read from its default branch, never from the push being checked,
 * so that a push cannot loosen its own check. Researchers that are not listed are the
 * workspace folders of that branch's tree.
 */
export function openBareRepo(dir: string): Repo {
  const r = git(['rev-parse', '--is-bare-repository', '--absolute-git-dir'], { cwd: dir });
  if (r.status !== 0)
    throw environmentError(`${dir} is not a git repository: ${r.stderr.trim().split('\n')[0] ?? ''}`);
  const [bare, gitDir = dir] = r.stdout.trim().split('\n');
  if (bare !== 'true')
    throw environmentError(
      `${dir} is not a bare repository: the gate on the server goes into the repository everyone pushes to (a bare one, with --repo PATH).`,
    );
  const real = realpathSync(gitDir);
  return { top: real, gitDir: real, commonDir: real, cwd: real };
}

/** What the server's configuration is, and what went wrong reading it (checked with defaults then). */
export interface ServerConfig {
  config: Config;
  /** The branch it was read from. */
  branch?: string;
  /** The file on that branch, when there is one. */
  file?: string;
  problem?: string;
}

const DATA_FILE = /\.(json|ya?ml)$|^\.consortiumrc$|^package\.json$/;

export async function serverConfig(repo: Repo): Promise<ServerConfig> {
  const branch = currentBranch(repo);
  if (!branch) return { config: resolveConfig(undefined, undefined) };
  const listed = git(
    ['ls-tree', '-z', '--name-only', '--end-of-options', `refs/heads/${branch}`, '--', ...CONFIG_PLACES],
    {
      cwd: repo.top,
    },
  );
  const present = new Set(listed.status === 0 ? listed.stdout.split('\0').filter(Boolean) : []);
  const file = CONFIG_PLACES.find((place) => present.has(place));
  if (!file) return { config: resolveConfig(undefined, undefined), branch };
  if (!DATA_FILE.test(file))
    return {
      config: resolveConfig(undefined, undefined),
      branch,
      file,
      problem: `${file} on ${branch} is code; the server runs no code from the repository and reads only YAML or JSON configurations`,
    };
  const blob = git(['cat-file', 'blob', `refs/heads/${branch}:${file}`], { cwd: repo.top });
  const dir = mkdtempSync(path.join(tmpdir(), 'consortium-server-'));
  try {
    writeFileSync(path.join(dir, file), blob.stdout);
    const config = await loadConfig(dir);
    return { config: { ...config, file: `${branch}:${file}` }, branch, file };
  } catch (error) {
    return { config: resolveConfig(undefined, undefined), branch, file, problem: (error as Error).message };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A Context on the server: its researchers come from the default branch's tree. */
export class ServerContext extends Context {
  private listed?: Map<string, Researcher>;

  constructor(
    repo: Repo,
    readonly server: ServerConfig,
  ) {
    super(repo, server.config);
  }

  override get researchers(): Map<string, Researcher> {
    this.listed ??= this.config.researchersListed ? this.config.researchers : this.workspaceFolders();
    return this.listed;
  }

  private workspaceFolders(): Map<string, Researcher> {
    const found = new Map<string, Researcher>();
    const [before = ''] = this.config.workspaces.split('*');
    if (!this.server.branch) return found;
    const r = git(
      [
        'ls-tree',
        '-d',
        '-z',
        '--name-only',
        '--end-of-options',
        `refs/heads/${this.server.branch}`,
        '--',
        before,
      ],
      { cwd: this.repo.top },
    );
    for (const entry of r.status === 0 ? r.stdout.split('\0') : []) {
      const name = entry.slice(before.length);
      if (!entry.startsWith(before) || !name || researcherIdProblem(name)) continue;
      found.set(name, { id: name, workspace: this.config.workspaces.replace('*', name), owns: [], keys: [] });
    }
    return found;
  }
}
