import { homedir } from 'node:os';
import { formatDuration } from '../core/duration.js';

export { shortIds } from '../core/ids.js';

/**
 * What text for people reads at a glance, the same in every command: short session ids, times
 * relative and local, shortened paths. JSON and the audit trail keep full ids and ISO 8601 UTC.
 */

/** "1 file", "3 files". */
export const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** "4m ago", "just now", "in 1h58m". */
export function relative(isoTime: string, nowMs: number): string {
  const ms = Date.parse(isoTime) - nowMs;
  if (Number.isNaN(ms)) return isoTime;
  if (Math.abs(ms) < 5000) return 'just now';
  return ms > 0 ? `in ${formatDuration(ms)}` : `${formatDuration(-ms)} ago`;
}

/** The local time of day, with the date when it is not today: "13:27", "Dec 2 13:27". */
export function clock(isoTime: string, nowMs: number): string {
  const at = new Date(isoTime);
  if (Number.isNaN(at.getTime())) return isoTime;
  const time = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
  const today = new Date(nowMs);
  const sameDay =
    at.getFullYear() === today.getFullYear() &&
    at.getMonth() === today.getMonth() &&
    at.getDate() === today.getDate();
  return sameDay ? time : `${at.toLocaleString('en', { month: 'short' })} ${at.getDate()} ${time}`;
}

/** "until 13:27, in 1h58m" (or "expired 3m ago"). */
export function until(isoTime: string, nowMs: number): string {
  return Date.parse(isoTime) <= nowMs
    ? `expired ${relative(isoTime, nowMs)}`
    : `until ${clock(isoTime, nowMs)}, ${relative(isoTime, nowMs)}`;
}

/**
 * A path as a person reads it: the home folder as ~, and at most `max` characters, the folder's
 * own name kept whole when it fits (it is what tells two worktrees apart).
 */
export function shortPath(p: string, max = 36, home = homedir()): string {
  const shown = home && (p === home || p.startsWith(`${home}/`)) ? `~${p.slice(home.length)}` : p;
  if (shown.length <= max) return shown;
  const name = shown.slice(shown.lastIndexOf('/') + 1);
  if (name.length + 2 > max) return `…${name.slice(-(max - 1))}`;
  const head = shown.slice(0, max - name.length - 2);
  return `${head.slice(0, head.lastIndexOf('/') + 1) || head}…/${name}`;
}

/** Columns padded to the widest cell, the last one left as it is. */
export function aligned(rows: string[][], indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows)
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, visible(cell).length);
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) =>
          i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visible(cell).length),
        )
        .join('  ')
        .trimEnd(),
  );
}

/** A cell's text without colour codes, for its width. */
const visible = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');
