import type { Repo } from './repo.js';
import { gitOut } from './run.js';

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
