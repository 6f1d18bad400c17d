import type { Repo } from './repo.js';
import { gitOut } from './run.js';

/** Writes an object of `type` holding `content` and returns its id. */
export function writeObject(repo: Repo, type: 'tree' | 'commit' | 'blob', content: string): string {
  return gitOut(['hash-object', '-w', '-t', type, '--stdin'], { cwd: repo.top, input: content }).trim();
}
