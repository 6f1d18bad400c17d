import path from 'node:path';
import { cosmiconfig } from 'cosmiconfig';
import { CONFIG_PLACES, type Config, resolveConfig } from './config.js';
import { usageError } from './errors.js';

/**
 * Finds and loads the configuration with cosmiconfig, searching only the top of the worktree
 * that is checked out (deeper searches are slow, and a workspace must not shadow the top).
 */
export async function loadConfig(top: string): Promise<Config> {
  const explorer = cosmiconfig('consortium', {
    searchPlaces: CONFIG_PLACES,
    searchStrategy: 'none',
    cache: false,
  });
  let found: { config: unknown; filepath: string; isEmpty?: boolean } | null;
  try {
    found = await explorer.search(top);
  } catch (error) {
    const file = configFileFrom(error, top);
    const reason = firstLine(error instanceof Error ? error.message : String(error));
    throw usageError(`The configuration ${file} could not be read: ${reason}`);
  }
  if (!found) return resolveConfig(undefined, undefined);
  const file = path.relative(top, found.filepath) || found.filepath;
  return resolveConfig(found.isEmpty ? {} : found.config, file);
}

function configFileFrom(error: unknown, top: string): string {
  const filepath = (error as { filepath?: string }).filepath;
  if (filepath) return path.relative(top, filepath);
  const mentioned =
    error instanceof Error ? /([^\s'"]*consortium[^\s'":]*)/.exec(error.message)?.[1] : undefined;
  return mentioned ? path.relative(top, mentioned) || mentioned : 'file';
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim()) ?? text;
  return line.replace(/^YAMLException:\s*/, '').replace(/\s+$/, '');
}
