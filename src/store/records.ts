import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { now } from '../core/clock.js';
import { environmentError } from '../core/errors.js';
import { writeObject } from '../git/objects.js';
import { deleteRef as deleteGitRef, isAncestor, refContents, resolveRef, updateRef } from '../git/refs.js';
import type { Repo } from '../git/repo.js';

/**
 * Coordination records are commits whose message is a subject line and one JSON document,
 * on an empty tree, chained by parent so that a record's whole history stays readable.
 * Commits rather than bare blobs because some servers accept only commits behind refs.
 */
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
export const ZERO = '0000000000000000000000000000000000000000';

export interface StoredRecord {
  ref: string;
  commit: string;
  subject: string;
  body: unknown;
}

export interface BadRecord {
  ref: string;
  commit: string;
  reason: string;
}

/** Reads every record under the given ref prefixes in one git process. */
export function readRecords(repo: Repo, prefixes: string[]): { records: StoredRecord[]; bad: BadRecord[] } {
  const records: StoredRecord[] = [];
  const bad: BadRecord[] = [];
  // A record and its fetched copy are mostly one commit: parsed once (hooks read them all).
  const seen = new Map<string, ReturnType<typeof parseMessage>>();
  for (const { ref, sha: commit, type, message } of contentsOf(repo, prefixes)) {
    const parsed = seen.get(commit) ?? parseMessage(type, message);
    seen.set(commit, parsed);
    if ('reason' in parsed) bad.push({ ref, commit, reason: parsed.reason });
    else records.push({ ref, commit, ...parsed });
  }
  return { records, bad };
}

export function parseMessage(
  type: string,
  message: string,
): { subject: string; body: unknown } | { reason: string } {
  if (type !== 'commit') return { reason: `it points at a ${type || 'missing object'}, not a commit` };
  const split = message.indexOf('\n\n');
  if (split < 0) return { reason: 'its commit message holds no record' };
  try {
    return { subject: message.slice(0, split), body: JSON.parse(message.slice(split + 2)) };
  } catch {
    return { reason: 'its record is not valid JSON' };
  }
}

/** Repositories (by git folder) known to hold the empty tree, in this process. */
const emptyTreeIn = new Set<string>();

/** Who the record commits are written by: explicit, since a fresh machine has no identity. */
export interface Author {
  name: string;
  email: string;
}

export function writeRecordCommit(
  repo: Repo,
  subject: string,
  body: unknown,
  parents: string[],
  author: Author,
  /** The commit's time (default now). */
  at: Date = now(),
  /** A tree of its own (the archive's list); records otherwise point at the empty tree. */
  tree = EMPTY_TREE,
): string {
  // Records point at the empty tree, which must be stored for fsck and for pushes to carry it;
  // once written as a loose object it is seen without starting git.
  if (
    tree === EMPTY_TREE &&
    !emptyTreeIn.has(repo.commonDir) &&
    !existsSync(path.join(repo.commonDir, 'objects', EMPTY_TREE.slice(0, 2), EMPTY_TREE.slice(2)))
  ) {
    writeObject(repo, 'tree', '');
  }
  if (tree === EMPTY_TREE) emptyTreeIn.add(repo.commonDir);
  const who = signature(author, at);
  const header = [`tree ${tree}`, ...parents.map((p) => `parent ${p}`), `author ${who}`, `committer ${who}`];
  const text = `${header.join('\n')}\n\n${clean(subject)}\n\n${JSON.stringify(body, null, 1)}\n`;
  return writeObject(repo, 'commit', text);
}

/** `Name <email> seconds +0000`, as git writes an author or committer line (at `at`, default now). */
export const signature = (author: Author, at: Date = now()) =>
  `${clean(author.name)} <${clean(author.email)}> ${Math.floor(at.getTime() / 1000)} +0000`;

const clean = (s: string) => s.replace(/[<>\n\r\0]/g, ' ').trim() || 'unknown';

/**
 * Moves a ref from `expected` (ZERO: must not exist) to `commit`; false when another writer
 * got there first. A lock file left by a killed process shows up as a failure too: recover
 * removes those.
 */
export function compareAndSwap(repo: Repo, ref: string, commit: string, expected: string): boolean {
  return updateRef(repo, ref, commit, expected);
}

export function deleteRef(repo: Repo, ref: string, expected: string): boolean {
  return deleteGitRef(repo, ref, expected);
}

/** Every ref under the prefixes with its content; a failure to read is an environment error. */
function contentsOf(repo: Repo, prefixes: string[]) {
  try {
    return refContents(repo, prefixes);
  } catch (error) {
    throw environmentError((error as Error).message);
  }
}

/**
 * Moves the local copies of a shared record ref (its mirror, then the ref itself) to a version
 * the server accepted, never backwards: a copy that already holds it or a newer one stays.
 */
export function adoptAccepted(repo: Repo, refs: string[], commit: string): void {
  for (const ref of refs) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = resolveRef(repo, ref) ?? '';
      if (current === commit) break;
      if (current && isAncestor(repo, commit, current)) break;
      if (compareAndSwap(repo, ref, commit, current || ZERO)) break;
    }
  }
}

/** A short random pause before retrying a lost compare-and-swap, so racers spread out. */
export function backoff(attempt: number): void {
  const ms = Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random());
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export const machine = () => hostname();

/** The same identity as environment, for git commands that write commits themselves (notes). */
export function identityEnv(author: Author): NodeJS.ProcessEnv {
  return {
    GIT_AUTHOR_NAME: clean(author.name),
    GIT_AUTHOR_EMAIL: clean(author.email),
    GIT_COMMITTER_NAME: clean(author.name),
    GIT_COMMITTER_EMAIL: clean(author.email),
  };
}
