import { Minimatch } from 'minimatch';

/**
 * Path patterns (protocol files, owned paths, leases) are minimatch globs over paths from the
 * top of the repository, dot files included.
 */
const OPTIONS = { dot: true, nocomment: true, nonegate: true } as const;

/**
 * Each pattern compiled once per process: status meets every session's files with the
 * protocol patterns, and minimatch() would parse the pattern again for each.
 */
const compiled = new Map<string, Minimatch>();

export function matches(file: string, pattern: string): boolean {
  if (file === pattern) return true;
  let matcher = compiled.get(pattern);
  if (!matcher) {
    matcher = new Minimatch(pattern, OPTIONS);
    compiled.set(pattern, matcher);
  }
  return matcher.match(file);
}

export function matchesAny(file: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => matches(file, p));
}
