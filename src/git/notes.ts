import { readObjects } from './objects.js';
import type { Repo } from './repo.js';
import { git } from './run.js';

/**
 * Notes plumbing: append to a note on a given notes ref, merge two notes refs, and read every
 * note of one in bulk.
 */

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
  const blobs = readObjects(
    repo,
    pairs.map(([b]) => b),
  );
  return pairs.map(([, commit], i) => ({ commit, text: blobs[i]?.text ?? '' }));
}

/** The note of each of `commits` on `notesRef` (those with none are left out): one git process. */
export function notesOf(repo: Repo, notesRef: string, commits: string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (commits.length === 0) return out;
  const r = git(['log', '--no-walk=unsorted', `--notes=${notesRef}`, '--format=%x01%H%x02%N', '--stdin'], {
    cwd: repo.top,
    input: `${commits.join('\n')}\n`,
  });
  if (r.status !== 0) return out;
  for (const chunk of r.stdout.split('\x01')) {
    const [sha = '', text = ''] = chunk.split('\x02');
    if (sha && text.trim()) out.set(sha, text);
  }
  return out;
}

/**
 * The notes that differ between two commits of a notes ref, by the commit each annotates
 * (a note may move between fan-out paths as the tree grows: same commit, same note), with
 * the blob before and after (undefined where there is none): one `diff-tree`.
 */
export function changedNotes(
  repo: Repo,
  from: string,
  to: string,
): { commit: string; before?: string; after?: string }[] {
  const r = git(['diff-tree', '-r', '-z', '--no-renames', from, to], { cwd: repo.top });
  if (r.status !== 0) return [];
  const byCommit = new Map<string, { commit: string; before?: string; after?: string }>();
  const parts = r.stdout.split('\0');
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const [, , oldBlob, newBlob] = (parts[i] ?? '').replace(/^:/, '').split(' ');
    const commit = (parts[i + 1] ?? '').replace(/\//g, '');
    const entry = byCommit.get(commit) ?? { commit };
    if (oldBlob && !/^0+$/.test(oldBlob)) entry.before = oldBlob;
    if (newBlob && !/^0+$/.test(newBlob)) entry.after = newBlob;
    byCommit.set(commit, entry);
  }
  return [...byCommit.values()].filter((e) => e.before !== e.after);
}
