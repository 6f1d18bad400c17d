import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A file shipped with the package (hooks/, templates/, package.json, dist/cli.cjs), found from
 * the package's top whatever the depth of the module asking: the same code runs from src/
 * under tsx, from tsc's dist/ tree, and from the bundle's chunks (scripts/postbuild.mjs).
 */
let top: string | undefined;

export function packageFile(...parts: string[]): string {
  if (top === undefined) {
    let dir = path.dirname(fileURLToPath(import.meta.url));
    while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
    top = dir;
  }
  return path.join(top, ...parts);
}
