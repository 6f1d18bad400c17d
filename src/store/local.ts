import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Repo } from '../git/repo.js';

/**
 * The files under <git common dir>/consortium/ that hold what is local to this clone (caches,
 * what was last reported, approvals). JSON, written to a temporary file and renamed, so that a
 * reader never sees half a file and a process killed mid-write leaves the old one.
 */
export const localFile = (repo: Repo, name: string) => path.join(repo.commonDir, 'consortium', name);

export function readLocalJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function writeLocalJson(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(temp, file);
}
