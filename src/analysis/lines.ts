import { diffLines, type Hunk, type Span, splitLines } from './line-diff.js';

/**
 * The line check (SPEC section 7, `policy.lines`), pure: which lines an edit replaces, where
 * those lines were at the merge base, and whether they meet lines another session changed.
 * Everything is counted in lines from 1; a span of no lines is the place between two lines.
 */
export type { Hunk, Span } from './line-diff.js';

/** How many unchanged lines may lie between two changes before they stop being near. */
export const NEAR_LINES = 3;

/**
 * The unchanged lines between two spans: -1 when they share a line, 0 when they touch (git's
 * merge conflicts then too: two insertions at one place, or a change next to another).
 */
export function linesBetween(a: Span, b: Span): number {
  const aEnd = a.first + a.count;
  const bEnd = b.first + b.count;
  if (a.first < bEnd && b.first < aEnd) return -1;
  return Math.max(b.first - aEnd, a.first - bEnd);
}

/** The spans of `text` that turning it into `next` replaces (in the numbering of `text`). */
export function replacedSpans(text: string, next: string): Span[] {
  return diffLines(splitLines(text), splitLines(next)).map((h) => h.old);
}

/**
 * Where a span of the current text lies in an older version, given the hunks that turn the
 * older into the current: an unchanged line is where it was, shifted by the hunks before it;
 * a line a hunk brought is that hunk's old lines. The result covers all of those.
 */
export function spanBefore(span: Span, hunks: readonly Hunk[]): Span {
  const lines =
    span.count === 0
      ? [placeBefore(span.first, hunks)]
      : linesOf(span).map((line) => lineBefore(line, hunks));
  const first = Math.min(...lines.map((s) => s.first));
  const end = Math.max(...lines.map((s) => s.first + s.count));
  return { first, count: end - first };
}

/** The other way: where a span of the older version lies in the current text. */
export function spanAfter(span: Span, hunks: readonly Hunk[]): Span {
  return spanBefore(
    span,
    hunks.map((h) => ({ old: h.new, new: h.old })),
  );
}

/** The first and last line of a span, each as a span of one: mapping keeps order, so they bound the rest. */
function linesOf(span: Span): Span[] {
  const last = span.first + span.count - 1;
  return [{ first: span.first, count: 1 }, ...(last > span.first ? [{ first: last, count: 1 }] : [])];
}

function lineBefore(line: Span, hunks: readonly Hunk[]): Span {
  let shift = 0;
  for (const h of hunks) {
    if (h.new.first + h.new.count <= line.first) {
      shift += h.new.count - h.old.count;
      continue;
    }
    // A line the hunk brought stands for the lines it replaced.
    if (h.new.first <= line.first) return h.old;
    break;
  }
  return { first: line.first - shift, count: 1 };
}

/** The place before current line `first`, in the older version. */
function placeBefore(first: number, hunks: readonly Hunk[]): Span {
  let shift = 0;
  for (const h of hunks) {
    const { first: start, count } = h.new;
    if ((count > 0 && start + count <= first) || (count === 0 && start < first)) {
      shift += count - h.old.count;
      continue;
    }
    // Inside the lines a hunk brought, or where a hunk removed lines: the lines it replaced.
    if ((count > 0 && start < first) || (count === 0 && start === first)) return h.old;
    break;
  }
  return { first: first - shift, count: 0 };
}

/** A span as a person reads it: `12`, `12-15`, or `after line 12` for a place between lines. */
export function spanWords(span: Span): string {
  if (span.count === 0) return span.first <= 1 ? 'at the start' : `after line ${span.first - 1}`;
  return span.count === 1 ? `line ${span.first}` : `lines ${span.first}-${span.first + span.count - 1}`;
}

/** A span as `[first, last]` for JSON; a place between lines as the two lines around it. */
export function spanPair(span: Span): [number, number] {
  if (span.count > 0) return [span.first, span.first + span.count - 1];
  return [Math.max(1, span.first - 1), Math.max(1, span.first)];
}

/** Spans that touch or overlap merged into one, in order. */
export function mergeSpans(spans: readonly Span[]): Span[] {
  const sorted = [...spans].sort((p, q) => p.first - q.first || p.count - q.count);
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out.at(-1);
    if (last && s.first <= last.first + last.count) {
      const end = Math.max(last.first + last.count, s.first + s.count);
      last.count = end - last.first;
    } else out.push({ ...s });
  }
  return out;
}
