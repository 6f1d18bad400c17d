import type { Repo } from './repo.js';
import { git, gitBytes, gitOut } from './run.js';

/**
 * The commits this process wrote, by id, with their message and parents: a ref moved to one of
 * them is known without reading it back (git/refs.ts), and what it descends from without asking.
 */
const written = new Map<string, { message: string; parents: string[] }>();

/** Writes an object of `type` holding `content` and returns its id. */
export function writeObject(repo: Repo, type: 'tree' | 'commit' | 'blob', content: string): string {
  const id = gitOut(['hash-object', '-w', '-t', type, '--stdin'], { cwd: repo.top, input: content }).trim();
  if (type === 'commit') {
    const header = content.slice(0, content.indexOf('\n\n'));
    const parents = [...header.matchAll(/^parent ([0-9a-f]+)$/gm)].map((m) => m[1]!);
    written.set(id, { message: content.slice(header.length + 2), parents });
  }
  return id;
}

export const writtenMessage = (id: string): string | undefined => written.get(id)?.message;

/** The parents of a commit this process wrote; undefined for any other. */
export const writtenParents = (id: string): string[] | undefined => written.get(id)?.parents;

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

/** An object as `cat-file --batch` gives it: its type, and its content as text for a commit or blob. */
export interface ObjectRead {
  type: string;
  text: string;
}

/**
 * Each object (ids or revisions), in one `cat-file --batch`; undefined for a missing one. The
 * output is walked as bytes (sizes count bytes; a tree is binary), and only commits, tags and
 * blobs are decoded.
 */
export function readObjects(repo: Repo, ids: string[]): (ObjectRead | undefined)[] {
  if (ids.length === 0) return [];
  const r = gitBytes(['cat-file', '--batch'], { cwd: repo.top, input: `${ids.join('\n')}\n` });
  if (r.status !== 0) throw new Error('git cat-file failed.');
  const out = r.stdout;
  const objects: (ObjectRead | undefined)[] = [];
  let at = 0;
  for (let i = 0; i < ids.length; i++) {
    const eol = out.indexOf(10, at);
    if (eol < 0) break;
    const [, type = '', sizeText = ''] = out.subarray(at, eol).toString().split(' ');
    const size = Number(sizeText);
    if (!sizeText || !Number.isFinite(size)) {
      objects.push(undefined);
      at = eol + 1;
      continue;
    }
    const text = type === 'tree' ? '' : out.subarray(eol + 1, eol + 1 + size).toString('utf8');
    objects.push({ type, text });
    at = eol + 1 + size + 1;
  }
  return objects;
}

/** The type and size in bytes of each of these objects that exists, in one `cat-file --batch-check`. */
export function objectInfo(repo: Repo, ids: string[]): Map<string, { type: string; size: number }> {
  const info = new Map<string, { type: string; size: number }>();
  if (ids.length === 0) return info;
  const r = git(['cat-file', '--batch-check=%(objectname) %(objecttype) %(objectsize)'], {
    cwd: repo.top,
    input: `${ids.join('\n')}\n`,
  });
  if (r.status !== 0) return info;
  for (const line of r.stdout.split('\n')) {
    const [id, type, size] = line.split(' ');
    if (id && type && size && type !== 'missing') info.set(id, { type, size: Number(size) });
  }
  return info;
}

/**
 * Every file of a tree, at any depth, with its mode and type (`ls-tree -r -z`): undefined
 * when git cannot read the tree.
 */
export function treeFiles(
  repo: Repo,
  tree: string,
): { path: string; mode: string; type: string }[] | undefined {
  const r = git(['ls-tree', '-r', '-z', '--end-of-options', tree], { cwd: repo.top });
  if (r.status !== 0) return undefined;
  return r.stdout
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf('\t');
      const [mode = '', type = ''] = line.slice(0, tab).split(' ');
      return { path: line.slice(tab + 1), mode, type };
    });
}

/** The message of a raw commit: what follows its headers. */
export const commitMessage = (raw: string): string => {
  const split = raw.indexOf('\n\n');
  return split < 0 ? '' : raw.slice(split + 2);
};

/**
 * The entries of the tree of `revision` under `paths` (`ls-tree`), each with its object id:
 * given file names, those that are there; given `dir/` with `folders`, the folders inside it;
 * given none, the whole top level. Empty when the revision has none.
 */
export function treeEntries(
  repo: Repo,
  revision: string,
  paths: string[],
  options: { folders?: boolean } = {},
): { name: string; id: string }[] {
  const r = git(
    [
      'ls-tree',
      ...(options.folders ? ['-d'] : []),
      '-z',
      '--end-of-options',
      revision,
      ...(paths.length ? ['--', ...paths] : []),
    ],
    {
      cwd: repo.top,
    },
  );
  if (r.status !== 0) return [];
  return r.stdout
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf('\t');
      return { name: line.slice(tab + 1), id: line.slice(0, tab).split(' ')[2] ?? '' };
    });
}
