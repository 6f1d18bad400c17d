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
  /** The file on that branch, when there is one. */
  file?: string;
  /** The candidate files there and their blobs: the same text, the same configuration. */
  blob?: string;
  problem?: string;
}

const DATA_FILE = /\.(json|ya?ml)$|^\.consortiumrc$|^package\.json$/;

export async function serverConfig(repo: Repo, pushed?: string): Promise<ServerConfig> {
  const branch = currentBranch(repo);
  if (!branch) return { config: resolveConfig(undefined, undefined) };
  // `pushed`: the configuration a push to the default branch would bring, read the same way.
  const present = treeEntries(repo, pushed ?? `refs/heads/${branch}`, CONFIG_PLACES);
  if (present.length === 0) return { config: resolveConfig(undefined, undefined), branch };
  // The data files, searched as the clients search them (a package.json without a `consortium`
  // key does not count); code the server never runs.
  const data = present.filter((e) => DATA_FILE.test(e.name));
  const blob = data.map((e) => `${e.name} ${e.id}`).join('\n');
  try {
    const dir = configCopy(repo, data, pushed ? 'server-config-pushed' : 'server-config');
    const config = await loadConfig(dir, dir);
    const file = config.file;
    const order = (name?: string) => (name ? CONFIG_PLACES.indexOf(name) : CONFIG_PLACES.length);
    const code = present.find((e) => !DATA_FILE.test(e.name) && order(e.name) < order(file));
    if (code)
      return {
        config: resolveConfig(undefined, undefined),
        branch,
        file: code.name,
        blob,
        problem: `${code.name} on ${branch} is code; the server runs no code from the repository and reads only YAML or JSON configurations`,
      };
    return { config: { ...config, file: file && `${branch}:${file}` }, branch, file, blob };
  } catch (error) {
    return { config: resolveConfig(undefined, undefined), branch, blob, problem: (error as Error).message };
  }
}

/**
 * The configuration files as a folder of their own for loadConfig, rewritten only when one of
 * their blobs changes, so that loadConfig's cache (keyed by the files' sizes and times) spares
 * every push the YAML parser.
 */
function configCopy(repo: Repo, files: { name: string; id: string }[], folder: string): string {
  const dir = path.join(repo.gitDir, 'consortium', folder);
  const marker = path.join(dir, '.blobs');
  const want = files.map((f) => `${f.name} ${f.id}`).join('\n');
  if (readText(marker) !== want) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const texts = readObjects(
      repo,
      files.map((f) => f.id),
    );
    for (const [i, f] of files.entries()) writeFileSync(path.join(dir, f.name), texts[i]?.text ?? '');
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
