import type { Hunk } from '../core/span.js';

/**
 * A line diff of two texts, computed here rather than by git: the line check of an edit
 * (analysis/lines.ts) compares a file as it is on disk with the version the index keeps, on
 * every tool call of an agent, where starting git would cost more than the whole check.
 * Myers' O((N+M)D) greedy algorithm, as git's default, after the common head and tail are set
 * aside (an edit changes a few lines, so what is left is small).
 */

export type { Hunk, Span } from '../core/span.js';

/**
 * A text's lines as git counts them: a final newline ends the last line rather than starting
 * one more, and a carriage return before a newline is not part of the line (a worktree with
 * core.autocrlf holds CRLF where the repository holds LF, and that is no change).
 */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (let i = 0; i < lines.length; i++) if (lines[i]!.endsWith('\r')) lines[i] = lines[i]!.slice(0, -1);
  return lines;
}

/**
 * Beyond this many differing lines the diff is not worked out: everything between the common
 * head and tail counts as changed, which can only warn more, never less.
 */
const MAX_DIFFERENCES = 2000;

/** The hunks that turn lines `a` into lines `b`, in order. */
export function diffLines(a: readonly string[], b: readonly string[]): Hunk[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++;
  const n = a.length - head - tail;
  const m = b.length - head - tail;
  if (n === 0 && m === 0) return [];
  const whole = (): Hunk[] => [{ old: { first: head + 1, count: n }, new: { first: head + 1, count: m } }];
  if (n === 0 || m === 0) return whole();
  // Lines as numbers, so that the inner loop compares integers.
  const ids = new Map<string, number>();
  const intern = (line: string) => {
    const known = ids.get(line);
    if (known !== undefined) return known;
    ids.set(line, ids.size);
    return ids.size - 1;
  };
  const x = Int32Array.from({ length: n }, (_, i) => intern(a[head + i]!));
  const y = Int32Array.from({ length: m }, (_, j) => intern(b[head + j]!));
  const matches = myers(x, y);
  if (!matches) return whole();
  // The runs between matched lines are the hunks.
  const hunks: Hunk[] = [];
  let i = 0;
  let j = 0;
  for (const [mi, mj] of [...matches, [n, m] as const]) {
    if (mi > i || mj > j)
      hunks.push({
        old: { first: head + i + 1, count: mi - i },
        new: { first: head + j + 1, count: mj - j },
      });
    i = mi + 1;
    j = mj + 1;
  }
  return hunks;
}

/**
 * The matched lines (index in `a`, index in `b`) of a shortest edit script, ascending, or
 * undefined when it needs more than MAX_DIFFERENCES insertions and deletions. Each round `d`
 * keeps the furthest reach on every diagonal; the rounds kept (only the diagonals they used)
 * lead back from the end to the start.
 */
function myers(a: Int32Array, b: Int32Array): [number, number][] | undefined {
  const n = a.length;
  const m = b.length;
  const offset = n + m + 1;
  const v = new Int32Array(2 * offset + 1);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= Math.min(n + m, MAX_DIFFERENCES); d++) {
    // Diagonals -d-1 .. d+1, as they were before this round.
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let px =
        k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!)
          ? v[offset + k + 1]!
          : v[offset + k - 1]! + 1;
      let py = px - k;
      while (px < n && py < m && a[px] === b[py]) {
        px++;
        py++;
      }
      v[offset + k] = px;
      if (px >= n && py >= m) {
        found = d;
        break;
      }
    }
    if (found >= 0) break;
  }
  if (found < 0) return undefined;
  const matches: [number, number][] = [];
  let px = n;
  let py = m;
  for (let d = found; d >= 0; d--) {
    const before = trace[d]!;
    const at = (k: number) => before[k + d + 1]!;
    const k = px - py;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : at(prevK);
    const prevY = d === 0 ? 0 : prevX - prevK;
    while (px > prevX && py > prevY) matches.push([--px, --py]);
    px = prevX;
    py = prevY;
  }
  return matches.reverse();
}
