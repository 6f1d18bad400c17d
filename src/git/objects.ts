import type { Repo } from './repo.js';
import { git, gitOut } from './run.js';

/**
 * The messages of the commits this process wrote, by id: a ref moved to one of them is known
 * without reading it back (git/refs.ts).
 */
const written = new Map<string, string>();

/** Writes an object of `type` holding `content` and returns its id. */
export function writeObject(repo: Repo, type: 'tree' | 'commit' | 'blob', content: string): string {
  const id = gitOut(['hash-object', '-w', '-t', type, '--stdin'], { cwd: repo.top, input: content }).trim();
  if (type === 'commit') rememberCommit(id, content.slice(content.indexOf('\n\n') + 2));
  return id;
}

/** A commit written another way (fast-import), and its message. */
export const rememberCommit = (id: string, message: string) => void written.set(id, message);

export const writtenMessage = (id: string): string | undefined => written.get(id);

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
