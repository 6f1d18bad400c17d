import { rememberCommit } from './objects.js';
import { wrote } from './refs.js';
import type { Repo } from './repo.js';
import { git } from './run.js';

/**
 * Notes plumbing: the notes of some commits read and written in bulk (one process each,
 * whatever their number), a merge of two notes refs, and every note of one ref.
 */

/**
 * The text of the note on each commit in the notes commit `notes` ('' for none). A note's path
 * in the notes tree depends on its fan-out (`ab/cdef...`, `ab/cd/ef...`), so each commit is
 * asked for at every depth git uses, in one `cat-file --batch`.
 */
export function noteTexts(repo: Repo, notes: string | undefined, commits: string[]): Map<string, string> {
  const texts = new Map(commits.map((c) => [c, '']));
  if (!notes || commits.length === 0) return texts;
  const paths = (c: string) => [
    c,
    `${c.slice(0, 2)}/${c.slice(2)}`,
    `${c.slice(0, 2)}/${c.slice(2, 4)}/${c.slice(4)}`,
  ];
  const asked = commits.flatMap((c) => paths(c).map((p) => ({ commit: c, rev: `${notes}:${p}` })));
  const r = git(['cat-file', '--batch'], { cwd: repo.top, input: `${asked.map((a) => a.rev).join('\n')}\n` });
  if (r.status !== 0) throw new Error(`git cat-file failed: ${r.stderr.trim().split('\n')[0] ?? ''}`);
  batchContents(r.stdout, asked.length).forEach((text, i) => {
    if (text !== undefined) texts.set(asked[i]!.commit, text);
  });
  return texts;
}

/**
 * Writes a commit on `ref` (created or moved, no check: a private ref) whose notes tree is
 * that of `base` with the note of each given commit replaced by its text: one `fast-import`,
 * which keeps git's fan-out of the tree. Returns the new commit, or undefined on a failure.
 */
export function writeNotes(
  repo: Repo,
  ref: string,
  base: string | undefined,
  notes: Map<string, string>,
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
    ...[...notes].map(([commit, text]) => `N inline ${commit}\n${data(text)}`),
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

/**
 * The contents in the output of `cat-file --batch` for `count` questions, undefined where the
 * object is missing. Sizes in the headers count bytes: the output is walked as bytes.
 */
function batchContents(stdout: string, count: number): (string | undefined)[] {
  const out = Buffer.from(stdout, 'utf8');
  const contents: (string | undefined)[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const eol = out.indexOf(10, at);
    if (eol < 0) break;
    const header = out.subarray(at, eol).toString();
    const size = Number(header.split(' ')[2]);
    if (/ (missing|ambiguous)$/.test(header) || !Number.isFinite(size)) {
      contents.push(undefined);
      at = eol + 1;
      continue;
    }
    contents.push(out.subarray(eol + 1, eol + 1 + size).toString('utf8'));
    at = eol + 1 + size + 1;
  }
  return contents;
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
  const blobs = git(['cat-file', '--batch'], {
    cwd: repo.top,
    input: `${pairs.map(([b]) => b).join('\n')}\n`,
  });
  if (blobs.status !== 0) return [];
  const texts = batchContents(blobs.stdout, pairs.length);
  return pairs.map(([, commit], i) => ({ commit, text: texts[i] ?? '' }));
}
