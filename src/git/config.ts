import { readFileSync } from 'node:fs';
import path from 'node:path';
import { environmentError } from '../core/errors.js';
import { remembered } from './memo.js';
import type { Repo } from './repo.js';
import { git } from './run.js';

/** git configuration: read one value, all values, or a set of keys at once; write the repository's. */
export function configValue(repo: Repo, key: string): string | undefined {
  const r = git(['config', '--get', key], { cwd: repo.top });
  return r.status === 0 ? r.stdout.trim() || undefined : undefined;
}

export function configValues(repo: Repo, key: string, scope: 'local' | 'any' = 'any'): string[] {
  const r = git(['config', ...(scope === 'local' ? ['--local'] : []), '--get-all', key], { cwd: repo.top });
  return r.status === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

/** Every key matching `pattern` (a regular expression, as git config --get-regexp reads it). */
export function configMatching(repo: Repo, pattern: string): Map<string, string> {
  const out = git(['config', '-z', '--get-regexp', pattern], { cwd: repo.top }).stdout;
  const settings = new Map<string, string>();
  for (const entry of out.split('\0')) {
    const split = entry.indexOf('\n');
    if (split > 0) settings.set(entry.slice(0, split), entry.slice(split + 1));
  }
  return settings;
}

/** Sets (or with null, removes every value of) a key of the repository's own configuration. */
export function setLocalConfig(repo: Repo, key: string, value: string | null): void {
  const args = value === null ? ['config', '--local', '--unset-all', key] : ['config', '--local', key, value];
  const r = git(args, { cwd: repo.top });
  // --unset-all of a key that is not there exits 5: nothing to do.
  if (r.status !== 0 && !(value === null && r.status === 5))
    throw environmentError(`git config ${key} failed: ${r.stderr.trim().split('\n')[0] ?? ''}`);
}

/** Adds one more value to a multi-valued key of the repository's own configuration. */
export function addLocalConfig(repo: Repo, key: string, value: string): boolean {
  return git(['config', '--local', '--add', key, value], { cwd: repo.top }).status === 0;
}

/** The url of a remote, or undefined when there is no such remote. */
export const remoteUrl = (repo: Repo, remote: string): string | undefined =>
  remembered(repo, `url of ${remote}`, () => configValue(repo, `remote.${remote}.url`));

/**
 * Whether a remote is configured. One that the repository's own config file names with a url
 * is seen without starting git (every fetch and push asks); anything else (an include, a
 * url set elsewhere) is asked of git.
 */
export function hasRemoteUrl(repo: Repo, remote: string): boolean {
  let text = '';
  try {
    text = readFileSync(path.join(repo.commonDir, 'config'), 'utf8');
  } catch {}
  const section = text.split(/^\s*\[/m).find((s) => s.startsWith(`remote "${remote}"]`));
  if (section && /^\s*url\s*=\s*\S/m.test(section)) return true;
  return remoteUrl(repo, remote) !== undefined;
}
