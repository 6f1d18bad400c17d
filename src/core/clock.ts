/**
 * The one clock. Tests and the demo set CONSORTIUM_CLOCK to an ISO 8601 time so that
 * staleness and expiry can be checked without sleeping; everyone else gets the real time.
 */
export function now(): Date {
  const fixed = process.env.CONSORTIUM_CLOCK;
  if (fixed) {
    const t = Date.parse(fixed);
    if (!Number.isNaN(t)) return new Date(t);
  }
  return new Date();
}

export const iso = (d: Date) => d.toISOString();
