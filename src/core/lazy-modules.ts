import { createRequire } from 'node:module';

/**
 * Modules that cost milliseconds to load, loaded when first used: child_process brings Node's
 * stream and socket modules along (about 5 ms), crypto its own (about 4 ms), and picocolors
 * asks whether stdout is a terminal as it loads, which opens Node's stdout stream (about 3 ms).
 * Most runs of a hook need none of them (bench/claude-hooks.mjs). require keeps each once loaded.
 */
const load = createRequire(import.meta.url);

export const childProcess = (): typeof import('node:child_process') => load('node:child_process');
export const nodeCrypto = (): typeof import('node:crypto') => load('node:crypto');
export const picocolors = (): typeof import('picocolors') => load('picocolors');
