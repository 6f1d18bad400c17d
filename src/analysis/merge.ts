import { type Conflict, SEVERITY, unique } from './conflicts.js';

/**
 * Predicted merge conflicts between live sessions. Pure: which pairs are worth a speculative
 * merge, and what a conflicted merge means to the people involved.
 */

/** One side of a speculative merge: a session, or work that has no session (a plain push). */
export interface MergeSide {
  session: string | null;
  researcher: string | null;
  branch: string | null;
  /** How the merged commit is named here (a branch, a remote-tracking branch or a commit id). */
  ref?: string | null;
}

export interface PredictedMerge {
  a: MergeSide;
  b: MergeSide;
  /** The paths git could not merge. */
  paths: string[];
  /** Per path, the line ranges involved, as side `a` numbers them (when worked out). */
  lines?: Record<string, [number, number][]>;
}

/**
 * The pairs of items whose files overlap: only those can conflict textually, so only those
 * are merged. Each pair once, in the order of `items`.
 */
export function overlappingPairs<T extends { files: readonly string[] }>(items: readonly T[]): [T, T][] {
  const byFile = new Map<string, number[]>();
  items.forEach((item, i) => {
    for (const file of new Set(item.files)) byFile.set(file, [...(byFile.get(file) ?? []), i]);
  });
  // A pair is the number i * n + j (i < j): sorting those numbers orders the pairs.
  const keys = new Set<number>();
  for (const holders of byFile.values()) {
    for (let x = 0; x < holders.length; x++) {
      for (let y = x + 1; y < holders.length; y++) keys.add(holders[x]! * items.length + holders[y]!);
    }
  }
  return [...keys]
    .sort((p, q) => p - q)
    .map((key) => [items[Math.floor(key / items.length)]!, items[key % items.length]!]);
}

/** The conflict a speculative merge that failed to merge cleanly stands for. */
export function mergeConflict(merge: PredictedMerge): Conflict {
  const { a, b } = merge;
  const paths = unique(merge.paths).sort();
  const files = paths
    .map((p) => (merge.lines?.[p]?.length ? `${p} (${rangesWords(merge.lines[p]!)})` : p))
    .join(', ');
  const see = a.ref && b.ref ? ` See it with: git merge-tree --write-tree ${a.ref} ${b.ref}` : '';
  return {
    kind: 'merge',
    severity: SEVERITY.merge,
    paths,
    sessions: [a.session, b.session].filter((s): s is string => s !== null),
    researchers: unique([a.researcher, b.researcher].filter((r): r is string => r !== null)),
    ...(merge.lines ? { lines: merge.lines } : {}),
    message:
      `Merging the work of ${describe(a)} and of ${describe(b)} would conflict in ${files}; neither is merged yet. ` +
      `Agree who merges first: the other then rebases on the default branch (git consortium sync --rebase) and resolves ${paths.length > 1 ? 'them' : 'it'}, or leave those lines to one of you.${see}`,
  };
}

export function mergeConflicts(merges: readonly PredictedMerge[]): Conflict[] {
  return merges.filter((m) => m.paths.length > 0).map(mergeConflict);
}

/** `lines 3-7, 12`: ranges as the first side numbers them. */
const rangesWords = (ranges: readonly [number, number][]) =>
  `line${ranges.length > 1 || ranges[0]![0] !== ranges[0]![1] ? 's' : ''} ${ranges.map(([f, l]) => (f === l ? `${f}` : `${f}-${l}`)).join(', ')}`;

function describe(side: MergeSide): string {
  const who = side.researcher ?? 'an unknown researcher';
  if (side.session) return `${who} (session ${side.session}${side.branch ? `, branch ${side.branch}` : ''})`;
  return side.branch ? `${who} (branch ${side.branch}, no session)` : `${who} (no session)`;
}
