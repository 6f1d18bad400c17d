import { readFileSync } from 'node:fs';

/** The package's version, read from the package.json shipped beside dist/. */
export const version: string = (() => {
  try {
    return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
  } catch {
    return 'unknown';
  }
})();
