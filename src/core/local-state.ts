import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The files under <git common dir>/consortium/ that hold what is local to a clone and can
 * always be rebuilt: caches, what was last reported, approvals, the install record. JSON,
 * written to a temporary file and renamed, so that a reader never sees half a file and a
 * process killed mid-write leaves the old one. A file that cannot be read is no file; one that
 * cannot be written only costs the next command some time, so neither is an error.
 */
export const localStateFile = (commonDir: string, name: string) => path.join(commonDir, 'consortium', name);

export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Writes `value` as JSON; false when the folder is not writable. */
export function writeJson(file: string, value: unknown, options: { pretty?: boolean } = {}): boolean {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(temp, `${JSON.stringify(value, null, options.pretty ? 2 : undefined)}\n`);
    renameSync(temp, file);
    return true;
  } catch {
    try {
      rmSync(temp, { force: true });
    } catch {
      // the folder itself is not there or not a folder: nothing was left behind
    }
    return false;
  }
}

/** The strings of a value read from JSON that should be a list of them (anything else: none). */
export const stringList = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
