import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_PLACES, type Config, type Researcher, resolveConfig } from '../core/config.js';
import { researcherIdProblem } from '../core/ids.js';
import { loadConfig } from '../core/load-config.js';
import { readObjects, treeEntries } from '../git/objects.js';
import { currentBranch, type Repo } from '../git/repo.js';
import { Context } from './context.js';

/**
 * Where the server's gate runs: a bare repository (the one git's hook runs in, or --repo),
 * with the configuration read from its default branch, never from the push being checked,
 * so that a push cannot loosen its own check. Researchers that are not listed are the
 * workspace folders of that branch's tree.
 */

/** What the server's configuration is, and what went wrong reading it (checked with defaults then). */
export interface ServerConfig {
  config: Config;
  /** The branch it was read from. */
  branch?: string;
  /** The file on that branch, when there is one, and its blob. */
  file?: string;
  blob?: string;
  problem?: string;
}

const DATA_FILE = /\.(json|ya?ml)$|^\.consortiumrc$|^package\.json$/;

export async function serverConfig(repo: Repo, pushed?: string): Promise<ServerConfig> {
  const branch = currentBranch(repo);
  if (!branch) return { config: resolveConfig(undefined, undefined) };
  // `pushed`: the configuration a push to the default branch would bring, read the same way.
  const present = new Map(
    treeEntries(repo, pushed ?? `refs/heads/${branch}`, CONFIG_PLACES).map((e) => [e.name, e.id]),
  );
  const file = CONFIG_PLACES.find((place) => present.has(place));
  if (!file) return { config: resolveConfig(undefined, undefined), branch };
  if (!DATA_FILE.test(file))
    return {
      config: resolveConfig(undefined, undefined),
      branch,
      file,
      problem: `${file} on ${branch} is code; the server runs no code from the repository and reads only YAML or JSON configurations`,
    };
  try {
    const blob = present.get(file)!;
    const dir = configCopy(repo, file, blob, pushed ? 'server-config-pushed' : 'server-config');
    const config = await loadConfig(dir, dir);
    return { config: { ...config, file: `${branch}:${file}` }, branch, file, blob };
  } catch (error) {
    return { config: resolveConfig(undefined, undefined), branch, file, problem: (error as Error).message };
  }
}

/**
 * The configuration file as a folder of its own for loadConfig, rewritten only when the
 * default branch's blob changes, so that loadConfig's cache (keyed by the file's size and
 * time) spares every push the YAML parser.
 */
function configCopy(repo: Repo, file: string, blob: string, folder: string): string {
  const dir = path.join(repo.gitDir, 'consortium', folder);
  const marker = path.join(dir, '.blob');
  const want = `${file} ${blob}`;
  if (readText(marker) !== want) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, file), readObjects(repo, [blob])[0]?.text ?? '');
    writeFileSync(marker, want);
  }
  return dir;
}

const readText = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

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
    const folders = treeEntries(this.repo, `refs/heads/${this.server.branch}`, [before], { folders: true });
    for (const { name: entry } of folders) {
      const name = entry.slice(before.length);
      if (!entry.startsWith(before) || !name || researcherIdProblem(name)) continue;
      found.set(name, { id: name, workspace: this.config.workspaces.replace('*', name), owns: [], keys: [] });
    }
    return found;
  }
}
