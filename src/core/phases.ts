import { appendFileSync } from 'node:fs';

/**
 * Where a hook's time goes, for the soak (bench/soak.mjs): with CONSORTIUM_PHASES=<file>, a
 * process appends one JSON line giving how long each of its phases took, in milliseconds. The
 * first phase runs from the process's start, so it holds Node's own start and our loading.
 * Nothing is measured or written otherwise.
 */
const file = process.env.CONSORTIUM_PHASES;
const took: Record<string, number> = {};
let last = 0;

/** Ends the phase called `name` now. */
export function phase(name: string): void {
  if (!file) return;
  const now = performance.now();
  took[name] = Math.round((took[name] ?? 0) + now - last);
  last = now;
}

/** Writes the phases measured so far as one line, marked `what`. */
export function writePhases(what: string): void {
  if (!file || Object.keys(took).length === 0) return;
  try {
    appendFileSync(file, `${JSON.stringify({ what, ...took })}\n`);
  } catch {
    // a measurement must never fail the hook it measures
  }
}
