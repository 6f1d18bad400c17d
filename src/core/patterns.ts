import { minimatch } from 'minimatch';

/**
 * Path patterns (protocol files, owned paths, leases) are minimatch globs over paths from the
 * top of the repository, dot files included.
 */
const OPTIONS = { dot: true, nocomment: true, nonegate: true } as const;

export function matches(file: string, pattern: string): boolean {
  return file === pattern || minimatch(file, pattern, OPTIONS);
}

export function matchesAny(file: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => matches(file, p));
}
