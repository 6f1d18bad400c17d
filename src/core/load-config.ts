import { statSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_PLACES, type Config, resolveConfig } from './config.js';
import { usageError } from './errors.js';
import { readJson, writeJson } from './local-state.js';

/**
 * Finds and loads the configuration with cosmiconfig, searching only the top of the worktree
 * that is checked out (deeper searches are slow, and a workspace must not shadow the top).
 *
 * Loading cosmiconfig and parsing YAML costs about 25 ms, a third of a git hook's budget, so
 * with `cacheDir` the parsed document of a data file (YAML, JSON, package.json) is kept there,
 * keyed by the size and time of every candidate file: any change to any of them, or a new one,
 * loads afresh. A JavaScript configuration runs code and is never cached.
 */
export async function loadConfig(top: string, cacheDir?: string): Promise<Config> {
  const stamp = cacheDir ? candidatesStamp(top) : undefined;
  const cached = cacheDir && stamp ? readCache(cacheDir, stamp) : undefined;
  if (cached) return resolveConfig(cached.raw, cached.file);
  const { cosmiconfig } = await import('cosmiconfig');
  const explorer = cosmiconfig('consortium', {
    searchPlaces: CONFIG_PLACES,
    searchStrategy: 'none',
    // An empty file is a configuration with every default, not a missing one.
    ignoreEmptySearchPlaces: false,
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
  const file = found ? path.relative(top, found.filepath) || found.filepath : undefined;
  const raw = found ? (found.isEmpty ? {} : found.config) : undefined;
  const config = resolveConfig(raw, file);
  if (cacheDir && stamp && !/\.[cm]?js$/.test(file ?? '') && isPlainData(raw))
    writeCache(cacheDir, { stamp, file, raw });
  return config;
}

interface CachedConfig {
  stamp: string;
  file: string | undefined;
  raw: unknown;
}

const CACHE_FILE = 'config-cache.json';

/** Size and modification time of every candidate file that exists, in search order. */
function candidatesStamp(top: string): string {
  const parts = [top];
  for (const place of CONFIG_PLACES) {
    const stat = statSync(path.join(top, place), { throwIfNoEntry: false });
    if (stat) parts.push(`${place}:${stat.size}:${stat.mtimeMs}`);
  }
  return parts.join('|');
}

function readCache(dir: string, stamp: string): CachedConfig | undefined {
  const cached = readJson<CachedConfig>(path.join(dir, CACHE_FILE));
  return cached?.stamp === stamp ? cached : undefined;
}

function writeCache(dir: string, cached: CachedConfig): void {
  writeJson(path.join(dir, CACHE_FILE), cached);
}

/** Only what survives JSON unchanged can be cached (YAML may also give dates). */
function isPlainData(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isPlainData);
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
    return Object.values(value).every(isPlainData);
  return value === undefined;
}

function configFileFrom(error: unknown, top: string): string {
  const filepath = (error as { filepath?: string }).filepath;
  if (filepath) return path.relative(top, filepath);
  const mentioned =
    error instanceof Error ? /([^\s'"]*consortium[^\s'":]*)/.exec(error.message)?.[1] : undefined;
  return mentioned ? path.relative(top, mentioned) || mentioned : 'file';
}

/** The reason, without the file name cosmiconfig repeats ("YAML Error in <file>:") or the excerpt. */
function firstLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^(YAML|JSON) Error in .*:$/.test(l));
  return (lines[0] ?? text).replace(/^YAMLException:\s*/, '');
}
