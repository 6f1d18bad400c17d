import type { Stats } from 'node:fs';

/**
 * A file's stamp: inode, change and modification times, size. git replaces the files it
 * writes (refs, config) by renaming a new file into place, and an editor or `git config`
 * rewrites them, so a change gives a new inode or new times.
 */
export const stampOf = (stat: Stats): string => `${stat.ino}:${stat.ctimeMs}:${stat.mtimeMs}:${stat.size}`;

/**
 * Whether a stamp taken at `takenAt` (ms) can vouch for the file: only when the file's times
 * are older than that moment by more than the file system's clock resolution, as git treats
 * its "racy" index entries, since a write within the same tick could leave all of it as it was.
 * A file system that keeps whole seconds (ext3, HFS+, some network mounts) gets a window as wide.
 */
export function stampTrusted(stat: Stats, takenAt: number): boolean {
  const racy = stat.mtimeMs % 1000 === 0 ? 2000 : 100;
  return Math.max(stat.ctimeMs, stat.mtimeMs) < takenAt - racy;
}
