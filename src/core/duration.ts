import { usageError } from './errors.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Reads `90s`, `30m`, `2h`, `1d` into milliseconds, or returns undefined. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,9})(s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/** The same, for a value given on the command line: a bad one is a usage error. */
export function durationArg(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined)
    throw usageError(`${flag} takes a duration such as 90s, 30m, 2h or 1d, not '${text}'.`);
  return ms;
}

/** `5400000` -> `1h30m`: how durations are shown to people. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.max(0, Math.round(ms / 1000))}s`;
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours}h${minutes % 60}m` : `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}
