import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

/**
 * Paths as the coordination compares them: real (symlinks resolved, so a link to a leased file
 * is that file), and from the top of the worktree with forward slashes.
 */

/** The real path of `file`; a file that does not exist yet is placed under its nearest existing folder's real path. */
export function realFile(file: string): string {
  let dir = path.resolve(file);
  const rest: string[] = [];
  while (!existsSync(dir)) {
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(file);
    rest.unshift(path.basename(dir));
    dir = parent;
  }
  try {
    return path.join(realpathSync(dir), ...rest);
  } catch {
    return path.resolve(file);
  }
}

/** `absolute` from `top`: '' for the top itself, undefined when it lies outside. */
export function fromTop(top: string, absolute: string): string | undefined {
  const relative = path.relative(top, absolute).split(path.sep).join('/');
  if (relative === '..' || relative.startsWith('../') || path.isAbsolute(relative)) return undefined;
  return relative;
}
