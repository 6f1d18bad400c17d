import type { Hunk } from '../core/span.js';
import type { Repo } from './repo.js';
import { git } from './run.js';

/**
 * What a commit changes line by line against an older one: for many pairs of commits in one
 * `git diff-tree --stdin` process. Each stdin line `<new> <old>` asks for the diff from old to
 * new (diff-tree reads the second id as the parent); `--patch-with-raw -z` gives, for each
 * pair that differs, the new id, the raw entries (exact paths, statuses and blob ids,
 * NUL-separated), then the patch, whose sections follow the raw entries in order. A pair with
 * no difference prints nothing at all. Renames are followed (-M), as a merge follows them.
 */
export interface FileChange {
  status: 'added' | 'modified' | 'deleted' | 'renamed';
  /** The path at the older commit (the same as `path` unless renamed). */
  from: string;
  /** The path at the newer commit (the same as `from` when deleted). */
  path: string;
  /** The blob at the older commit, or null when the file is new. */
  oldBlob: string | null;
  /** Binary (or a submodule): no lines to speak of. */
  binary: boolean;
  hunks: ChangedHunk[];
}

export interface ChangedHunk extends Hunk {
  /** The first lines the hunk brought, as they read (a few, shortened). */
  excerpt: string[];
}

const EXCERPT_LINES = 3;
const EXCERPT_CHARS = 120;
const ZERO = /^0+$/;
const NEXT_HEADER = /\n[0-9a-f]{40}(?:[0-9a-f]{24})?\0/g;

/** The changes of each `[newer, older]` pair, by the newer commit's id (pairs must have distinct newer ids). */
export function lineChanges(
  repo: Repo,
  pairs: readonly (readonly [string, string])[],
  paths: readonly string[] = [],
): Map<string, FileChange[]> {
  const found = new Map<string, FileChange[]>();
  for (const [newer] of pairs) found.set(newer, []);
  if (pairs.length === 0) return found;
  const run = (batch: readonly (readonly [string, string])[]) =>
    git(
      [
        'diff-tree',
        '--stdin',
        '-r',
        '-M',
        '--patch-with-raw',
        '-z',
        '-U0',
        '--full-index',
        '--no-color',
        '--no-ext-diff',
        '--no-textconv',
        ...(paths.length ? ['--', ...paths.map((p) => `:(literal)${p}`)] : []),
      ],
      { cwd: repo.top, input: batch.map(([newer, older]) => `${newer} ${older}\n`).join('') },
    );
  let result: ReturnType<typeof run> | undefined;
  try {
    result = run(pairs);
  } catch {
    // Too much output for one process (a branch that rewrites a large tree): one pair at a
    // time, so that only the pair that is too large goes without its lines.
  }
  if (result?.status === 0) parseDiffTree(result.stdout, found);
  else if (pairs.length > 1)
    for (const pair of pairs)
      for (const [newer, changes] of lineChanges(repo, [pair], paths)) found.set(newer, changes);
  return found;
}

/** Reads diff-tree's output into `found` (keyed by the newer commit of each pair). */
export function parseDiffTree(out: string, found: Map<string, FileChange[]>): void {
  let at = 0;
  while (at < out.length) {
    const header = /^([0-9a-f]{40}(?:[0-9a-f]{24})?)\0/.exec(out.slice(at, at + 66));
    if (!header) break;
    at += header[0].length;
    const changes: FileChange[] = [];
    // How many patch sections each entry has: a type change (a file becoming a symlink) is
    // patched as a deletion and a creation, two sections.
    const sectionsOf: number[] = [];
    // Raw entries: ":mode mode blob blob status\0path\0[path\0]" until an empty field.
    while (out[at] === ':') {
      const end = out.indexOf('\0', at);
      const [modeA = '', modeB = '', oldBlob = '', , status = ''] = out.slice(at + 1, end).split(' ');
      at = end + 1;
      const first = out.slice(at, out.indexOf('\0', at));
      at += first.length + 1;
      let second = first;
      if (status.startsWith('R') || status.startsWith('C')) {
        second = out.slice(at, out.indexOf('\0', at));
        at += second.length + 1;
      }
      const kind = status[0];
      sectionsOf.push(kind === 'T' ? 2 : 1);
      changes.push({
        status: kind === 'A' ? 'added' : kind === 'D' ? 'deleted' : kind === 'R' ? 'renamed' : 'modified',
        from: first,
        path: second,
        oldBlob: kind === 'A' || ZERO.test(oldBlob) ? null : oldBlob,
        // A submodule, or a type change, has no lines a merge could put together.
        binary: modeA === '160000' || modeB === '160000' || kind === 'T',
        hunks: [],
      });
    }
    if (out[at] === '\0') at++;
    // The patch: one section per raw entry, up to the next header (a line that starts with an id).
    NEXT_HEADER.lastIndex = at;
    const next = NEXT_HEADER.exec(out);
    const end = next ? next.index + 1 : out.length;
    const patch = out.slice(at, end);
    at = end;
    const sections = patch.split(/^diff --git /m).slice(1);
    let section = 0;
    changes.forEach((change, i) => {
      for (let k = 0; k < sectionsOf[i]!; k++, section++)
        if (sections[section] !== undefined && !change.binary) readSection(sections[section]!, change);
    });
    const newer = header[1]!;
    if (found.has(newer)) found.set(newer, changes);
  }
}

function readSection(section: string, change: FileChange): void {
  const lines = section.split('\n');
  let hunk: ChangedHunk | undefined;
  for (const line of lines) {
    if (line.startsWith('@@ ')) {
      const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line);
      if (!m) continue;
      hunk = { old: span(m[1]!, m[2]), new: span(m[3]!, m[4]), excerpt: [] };
      change.hunks.push(hunk);
    } else if (hunk && line.startsWith('+')) {
      if (hunk.excerpt.length < EXCERPT_LINES) hunk.excerpt.push(shorten(line.slice(1)));
    } else if (!hunk && line.startsWith('Binary files ')) change.binary = true;
  }
}

/** git's `start,count` (count 1 when absent; with count 0 the start is the line before). */
function span(start: string, count: string | undefined): { first: number; count: number } {
  const n = count === undefined ? 1 : Number(count);
  const s = Number(start);
  return { first: n === 0 ? s + 1 : s, count: n };
}

const shorten = (text: string) => {
  const clean = text.replace(/\r$/, '').replace(/\t/g, '  ');
  return clean.length > EXCERPT_CHARS ? `${clean.slice(0, EXCERPT_CHARS - 1)}…` : clean;
};
