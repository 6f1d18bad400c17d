import type { Repo } from './repo.js';
import { git, gitOut } from './run.js';

/** Writes an object of `type` holding `content` and returns its id. */
export function writeObject(repo: Repo, type: 'tree' | 'commit' | 'blob', content: string): string {
  return gitOut(['hash-object', '-w', '-t', type, '--stdin'], { cwd: repo.top, input: content }).trim();
}

/** Writes a tree of blobs (name -> blob id) and returns its id. Names are the toolkit's own. */
export function writeTree(repo: Repo, blobs: Record<string, string>): string {
  const input = Object.entries(blobs)
    .map(([name, sha]) => `100644 blob ${sha}\t${name}\n`)
    .join('');
  return gitOut(['mktree'], { cwd: repo.top, input }).trim();
}

/** The content of the blob `path` in the tree of `commit`, or undefined. */
export function blobAt(repo: Repo, commit: string, path: string): string | undefined {
  const r = git(['cat-file', 'blob', `${commit}:${path}`], { cwd: repo.top });
  return r.status === 0 ? r.stdout : undefined;
}
