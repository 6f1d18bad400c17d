import type { Repo } from './repo.js';
import { git } from './run.js';

/** Notes plumbing: append and merge on a given notes ref, and read every note of one in bulk. */
export function appendNote(
  repo: Repo,
  notesRef: string,
  commit: string,
  text: string,
  env: NodeJS.ProcessEnv,
): boolean {
  return (
    git(['notes', `--ref=${notesRef}`, 'append', '--file=-', '--end-of-options', commit], {
      cwd: repo.top,
      input: text,
      env,
    }).status === 0
  );
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
  // Sizes in the batch headers count bytes: walk the output as bytes (notes are UTF-8 text).
  const out = Buffer.from(blobs.stdout, 'utf8');
  const notes: { commit: string; text: string }[] = [];
  let at = 0;
  for (const [, commit] of pairs) {
    const eol = out.indexOf(10, at);
    if (eol < 0) break;
    const size = Number(out.subarray(at, eol).toString().split(' ')[2]);
    const text = Number.isFinite(size) ? out.subarray(eol + 1, eol + 1 + size).toString('utf8') : '';
    at = Number.isFinite(size) ? eol + 1 + size + 1 : eol + 1;
    notes.push({ commit, text });
  }
  return notes;
}
