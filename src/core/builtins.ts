import { createRequire } from 'node:module';

/**
 * Node's modules that cost milliseconds to load, loaded when first used: child_process brings
 * Node's stream and socket modules along (about 5 ms), crypto its own (about 4 ms), and most
 * runs of a hook need neither (bench/claude-hooks.mjs). require keeps each once loaded.
 */
const load = createRequire(import.meta.url);

export const childProcess = (): typeof import('node:child_process') => load('node:child_process');
export const nodeCrypto = (): typeof import('node:crypto') => load('node:crypto');
