import { splitLines } from '../analysis/line-diff.js';
import { linesBetween, mergeSpans, NEAR_LINES, type Span, spanWords } from '../analysis/lines.js';
import type { LineMeeting, WorktreeLines } from '../services/line-check.js';

/**
 * The line check's findings in words: what an agent reads before an edit (as a PreToolUse
 * reason or in may_edit), and what `check --lines` shows a person.
 */

/** Several spans as one phrase: `lines 3-5 and line 9`. */
export function spansWords(spans: readonly Span[]): string {
  const words = mergeSpans(spans).map(spanWords);
  return words.length <= 1
    ? (words[0] ?? 'no lines')
    : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

/** Whose work it is: `yuki-tanaka's live session S (branch B)`. */
export const whose = (m: Pick<LineMeeting, 'researcher' | 'session' | 'branch'>): string =>
  `${m.researcher}'s live session ${m.session}${m.branch ? ` (branch ${m.branch})` : ''}`;

/** What one session did to the file there, in a sentence. */
export function theirChange(m: LineMeeting): string {
  const moved = m.theirPath !== m.path ? ` (their branch moves the file to ${m.theirPath})` : '';
  switch (m.status) {
    case 'deleted':
      return `${whose(m)} deletes ${m.path}${moved}: any change to it will conflict with that when the branches merge.`;
    case 'added':
      return `${whose(m)} adds a file ${m.path} of its own: the two versions will conflict when the branches merge.`;
    case 'binary':
      return `${whose(m)} also changes ${m.path}, which has no lines git can merge: the two versions will conflict.`;
    default: {
      const parts = m.theirs.map((t) => {
        const reads = t.excerpt.length
          ? `, which now read${t.excerpt.length === 1 ? 's' : ''} ${t.excerpt.map((l) => JSON.stringify(l.trim())).join(' / ')}`
          : ', which they removed';
        return `${spanWords(t.span)}${reads}`;
      });
      return `${whose(m)} changed ${parts.join('; ')}${moved}.`;
    }
  }
}

/** The facts of an edit that meets other sessions' lines (line numbers as the file has them now). */
export function lineFacts(file: string, mine: readonly Span[], meetings: readonly LineMeeting[]): string {
  return `Your edit of ${file} changes ${spansWords(mine)}, at or within ${NEAR_LINES} lines of lines that another live session changed: ${meetings.map(theirChange).join(' ')}`;
}

/** The lines to stay clear of: their changes, widened by NEAR_LINES (as the file has them now). */
export function clearOf(meetings: readonly LineMeeting[]): string {
  const spans = meetings.flatMap((m) =>
    m.theirs.map((t) => {
      const first = Math.max(1, t.span.first - NEAR_LINES);
      return { first, count: t.span.first + t.span.count + NEAR_LINES - first };
    }),
  );
  return spansWords(spans);
}

/** What `check --lines` prints for one file: each meeting as a header, then both sides' lines next to each other. */
export function sideBySide(
  w: WorktreeLines,
  mine: string | undefined,
  theirs: (m: LineMeeting) => string | undefined,
  width: number,
): string[] {
  const out: string[] = [];
  const myLines = splitLines(mine ?? '');
  for (const m of w.meetings) {
    out.push(`${w.path}: you changed ${spansWords(m.mine)}. ${theirChange(m)}`);
    if (m.status !== 'modified' && m.status !== 'renamed') continue;
    const their = splitLines(theirs(m) ?? '');
    const column = Math.max(24, Math.floor((width - 3) / 2));
    // A changed line is marked with `*`, on either side.
    const cell = (n: number | undefined, text: string | undefined, changed: readonly Span[]) => {
      if (n === undefined) return ''.padEnd(column);
      const mark = changed.some((s) => n >= s.first && n < s.first + s.count) ? '*' : ' ';
      const shown = `${String(n).padStart(5)} ${mark} ${(text ?? '').replace(/\t/g, '  ')}`;
      return shown.length > column ? `${shown.slice(0, column - 1)}…` : shown.padEnd(column);
    };
    out.push(
      `${'  yours, as the file is now'.padEnd(column)} | ${m.researcher}'s, on ${m.branch ?? m.tip.slice(0, 12)}`,
    );
    const theirSpans = m.theirs.map((t) => t.their);
    for (const t of m.theirs) {
      const left = lineNumbers(widen(m.mine.length ? spanCovering(m.mine, t.span) : t.span), myLines.length);
      const right = lineNumbers(widen(t.their), their.length);
      for (let i = 0; i < Math.max(left.length, right.length); i++) {
        const mine = cell(left[i], myLines[left[i]! - 1], m.mine);
        out.push(`${mine} | ${cell(right[i], their[right[i]! - 1], theirSpans)}`.trimEnd());
      }
      out.push('');
    }
  }
  return out;
}

/** A span widened by NEAR_LINES on each side, so both sides show the lines around the change. */
const widen = (s: Span): Span => {
  const first = Math.max(1, s.first - NEAR_LINES);
  return { first, count: s.first + s.count + NEAR_LINES - first };
};

/** The mine spans near one of their spans, joined into one. */
function spanCovering(mine: readonly Span[], near: Span): Span {
  const close = mine.filter((s) => linesBetween(s, near) <= NEAR_LINES);
  const all = [...(close.length ? close : mine), near];
  const first = Math.min(...all.map((s) => s.first));
  return { first, count: Math.max(...all.map((s) => s.first + s.count)) - first };
}

/** The line numbers of a span that a text of `total` lines has. */
const lineNumbers = (s: Span, total: number) =>
  Array.from({ length: s.count }, (_, i) => s.first + i).filter((n) => n >= 1 && n <= total);
