import { readFileSync } from 'node:fs';
import { packageFile } from './core/package-files.js';

/** The package's version, read from the package.json shipped beside dist/. */
export const version: string = (() => {
  try {
    return JSON.parse(readFileSync(packageFile('package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
})();
