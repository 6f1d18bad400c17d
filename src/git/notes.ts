import { readObjects, rememberCommit } from './objects.js';
import { wrote } from './refs.js';
import type { Repo } from './repo.js';
import { git } from './run.js';

/**
 * Notes plumbing: the notes of some commits read and written in bulk (one process each,
 * whatever their number), a merge of two notes refs, and every note of one ref.
 */

/** A note as it stands in a notes tree: its text, and every path it is found at. */
export interface NoteAt {
  text: string;
  paths: string[];
}

/**
 * The note on each commit in the notes commit `notes` (text '' and no paths for none). A
 * note's path in the notes tree depends on the tree's fan-out (`ab/cdef...`, `ab/cd/ef...`), so
 * each commit is asked for at every depth git uses, in one `cat-file --batch`.
 */
export function noteTexts(repo: Repo, notes: string | undefined, commits: string[]): Map<string, NoteAt> {
  const found = new Map<string, NoteAt>(commits.map((c) => [c, { text: '', paths: [] }]));
  if (!notes || commits.length === 0) return found;
  const paths = (c: string) => [
    c,
    `${c.slice(0, 2)}/${c.slice(2)}`,
    `${c.slice(0, 2)}/${c.slice(2, 4)}/${c.slice(4)}`,
  ];
  const asked = commits.flatMap((c) => paths(c).map((path) => ({ commit: c, path })));
  readObjects(
    repo,
    asked.map((a) => `${notes}:${a.path}`),
  ).forEach((object, i) => {
    if (object?.type !== 'blob') return;
    const note = found.get(asked[i]!.commit)!;
    note.text = object.text;
    note.paths.push(asked[i]!.path);
  });
  return found;
}

/**
 * Writes a commit on `ref` (created or moved, no check: a private ref) whose notes tree is
 * that of `base` with the note of each given commit replaced by `text`: one `fast-import`.
 * The note's old paths go first: fast-import places a note at the fan-out it chooses, and a
 * note left at another depth as well would be in the tree twice (which `git notes merge`
 * cannot read). Returns the new commit, or undefined on a failure.
 */
export function writeNotes(
  repo: Repo,
  ref: string,
  base: string | undefined,
  notes: Map<string, NoteAt>,
  committer: string,
): string | undefined {
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const message = 'Notes added by git consortium\n';
  const input = [
    `commit ${ref}\n`,
    'mark :1\n',
    `committer ${committer}\n`,
    `data ${Buffer.byteLength(message)}\n${message}`,
    base ? `from ${base}\n` : '',
    ...[...notes].flatMap(([commit, { text, paths }]) => [
      ...paths.map((path) => `D ${path}\n`),
      `N inline ${commit}\n${data(text)}`,
    ]),
    // The new commit's id comes back on stdout: no second process to read the ref.
    'get-mark :1\n',
    'done\n',
  ].join('');
  const r = git(['fast-import', '--quiet', '--done'], { cwd: repo.top, input });
  const tip = r.stdout.trim();
  if (r.status !== 0 || !/^[0-9a-f]{40,64}$/.test(tip)) return undefined;
  rememberCommit(tip, message);
  wrote(repo, [{ ref, sha: tip }]);
  return tip;
}

export function mergeNotes(repo: Repo, notesRef: string, from: string, env: NodeJS.ProcessEnv): boolean {
  return (
    git(['notes', `--ref=${notesRef}`, 'merge', '--quiet', '--strategy=cat_sort_uniq', from], {
      cwd: repo.top,
      env,
    }).status === 0
  );
}

/**
 * Every note on `notesRef`: the commit it is about and its text (two git processes, whatever
 * the count). On the minimal runner: SessionStart reads the overrides that concern its researcher.
 */
export function allNotes(repo: Repo, notesRef: string): { commit: string; text: string }[] {
  const list = git(['notes', `--ref=${notesRef}`, 'list'], { cwd: repo.top });
  if (list.status !== 0 || !list.stdout.trim()) return [];
  const pairs = list.stdout
    .trim()
    .split('\n')
    .map((l) => l.split(' ') as [string, string]);
  const blobs = readObjects(
    repo,
    pairs.map(([b]) => b),
  );
  return pairs.map(([, commit], i) => ({ commit, text: blobs[i]?.text ?? '' }));
}
