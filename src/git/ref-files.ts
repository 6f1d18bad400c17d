import { type Dirent, existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isObjectId } from './merge-tree.js';
import { stampOf, stampTrusted } from './stamps.js';

/** A ref as for-each-ref lists it with `%(objectname) %(symref)`. */
export interface RefFile {
  sha: string;
  /** The ref a symbolic ref points to, else ''. */
  symref: string;
}

/**
 * The refs under for-each-ref patterns without wildcards (`refs/heads/`: a folder of refs;
 * `refs/notes/consortium`: that ref, or a folder of refs under it), read from git's files as
 * `for-each-ref --format=%(refname) %(objectname) %(symref)` lists them, without starting git:
 * loose ref files (a ref file wins over its packed-refs line, as in git) and packed-refs, a
 * symbolic ref resolved to its target's id when `symbolicTo` accepts the target. Undefined, for
 * git to answer, as soon as anything is not as git 2.39's files store writes it: a reftable
 * store, a name outside the plain ASCII that git's own refs use (so that the order is
 * for-each-ref's, byte by byte), a ref file that is neither an id nor `ref: <name>`, a
 * packed-refs line of another shape, a symbolic ref not accepted or whose target is missing,
 * packed-refs rewritten while the files were read. (One difference is left: a ref whose
 * object is missing, in a damaged repository, is listed with the id it holds, as for-each-ref
 * lists it with this format; the git command given that id then says what is wrong.)
 */
export function readRefFiles(
  commonDir: string,
  patterns: readonly string[],
  symbolicTo: (target: string) => boolean = () => false,
): Map<string, RefFile> | undefined {
  return readRefFilesKnowing(commonDir, patterns, symbolicTo)?.refs;
}

/**
 * What the loose ref files held when they were last read: by name, the file's stamp (inode,
 * change and modification times, size) and its text; `at`, when that reading began.
 */
export interface KnownRefFiles {
  at: number;
  files: Record<string, [stamp: string, text: string]>;
}

/**
 * readRefFiles, reading again only the loose ref files whose stamp is not the one known: a
 * command after a change to one of 600 session refs stats 600 files and reads one. git writes
 * a ref by renaming a new file into place, so a change gives the file a new inode and new
 * times; a stamp is trusted only when the file's times are older than the reading that took
 * it, by more than the file system's clock resolution (git's "racy" index entries, the same
 * way), since a write within the same tick could otherwise leave all of it as it was.
 */
export function readRefFilesKnowing(
  commonDir: string,
  patterns: readonly string[],
  symbolicTo: (target: string) => boolean = () => false,
  known?: KnownRefFiles,
): { refs: Map<string, RefFile>; known: KnownRefFiles; changed: boolean } | undefined {
  if (existsSync(path.join(commonDir, 'reftable'))) return undefined;
  // Names below are ref names or entries readdir gave (never `.` or `..`): a join of hundreds
  // of them, each normalized again, costs a millisecond.
  const root = path.resolve(commonDir);
  const now: KnownRefFiles = { at: Date.now(), files: {} };
  let read = 0;
  const wanted = (name: string) => patterns.some((p) => underPattern(name, p));
  const ids = new Map<string, string>();
  const symbolic = new Map<string, string>();
  const packedFile = path.join(commonDir, 'packed-refs');
  const packedStamp = () => {
    const stat = lstatSync(packedFile, { throwIfNoEntry: false });
    return stat ? `${stat.ino}:${stat.mtimeMs}:${stat.size}` : '-';
  };
  const before = packedStamp();
  let packed = '';
  try {
    packed = readFileSync(packedFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
  }
  for (const line of packed.split('\n')) {
    if (!line || line.startsWith('#') || line.startsWith('^')) continue;
    const space = line.indexOf(' ');
    const [id, name] = [line.slice(0, space), line.slice(space + 1)];
    if (space < 0 || !isObjectId(id)) return undefined;
    if (!wanted(name)) continue;
    if (!plainRefName(name)) return undefined;
    ids.set(name, id);
  }
  /** Reads one loose ref file; false when git should be asked instead. */
  const readRef = (name: string): boolean => {
    // git's lock files, held for milliseconds while a ref is written
    if (name.endsWith('.lock')) return true;
    if (!plainRefName(name)) return false;
    let text: string | undefined;
    try {
      text = readKnowing(`${root}/${name}`, known?.files[name], known?.at ?? 0, (entry, fresh) => {
        now.files[name] = entry;
        if (fresh) read++;
      });
    } catch (error) {
      // removed since the folder was read: gone, as its packed line (if any) says
      return (error as NodeJS.ErrnoException).code === 'ENOENT';
    }
    // A symbolic link, or a ref holding the null id (git skips it as broken): git's to read.
    if (text === undefined || /^0+$/.test(text)) return false;
    if (isObjectId(text)) {
      ids.set(name, text);
    } else if (text.startsWith('ref: ') && symbolicTo(text.slice(5))) {
      symbolic.set(name, text.slice(5));
      ids.delete(name);
    } else return false;
    return true;
  };
  /** Reads a folder of loose refs, or the one ref file a pattern names; false as above. */
  const visit = (dir: string): boolean => {
    let entries: Dirent[];
    try {
      entries = readdirSync(`${root}/${dir}`, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // The ref a pattern names itself (refs/notes/consortium), not a file where a folder of refs belongs.
      if (code === 'ENOTDIR') return !wanted(dir) || readRef(dir);
      return code === 'ENOENT';
    }
    for (const entry of entries) {
      const name = `${dir}/${entry.name}`;
      if (entry.isDirectory() ? !visit(name) : !entry.isFile() || !readRef(name)) return false;
    }
    return true;
  };
  for (const pattern of patterns) if (!visit(pattern.replace(/\/+$/, ''))) return undefined;
  // `git pack-refs` moved refs from their files into packed-refs while they were read.
  if (packedStamp() !== before) return undefined;
  const found: [string, RefFile][] = [...ids].map(([name, sha]) => [name, { sha, symref: '' }]);
  for (const [name, target] of symbolic) {
    const sha = ids.get(target);
    if (!sha) return undefined;
    found.push([name, { sha, symref: target }]);
  }
  // In for-each-ref's order (the names are ASCII: the same as git's byte order).
  const refs = new Map(found.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  const gone = Object.keys(known?.files ?? {}).length !== Object.keys(now.files).length;
  return { refs, known: now, changed: read > 0 || gone };
}

/**
 * A ref file's text: the one known when its stamp is and can be trusted, else read. Undefined
 * for anything but a plain file (a symbolic link's own stamp does not change with its target).
 */
function readKnowing(
  file: string,
  known: [string, string] | undefined,
  knownAt: number,
  keep: (entry: [string, string], fresh: boolean) => void,
): string | undefined {
  const stat = lstatSync(file);
  if (!stat.isFile()) return undefined;
  const stamp = stampOf(stat);
  const trusted = stampTrusted(stat, knownAt);
  // A kept file is local state, which a person may have edited: only its own shape is trusted.
  const reuse = Array.isArray(known) && trusted && known[0] === stamp && typeof known[1] === 'string';
  const text = reuse ? known![1] : readFileSync(file, 'utf8').trimEnd();
  keep([stamp, text], !reuse);
  return text;
}

/** The branches and remote-tracking refs, refs/remotes/origin/HEAD resolved. */
export const readBranchRefFiles = (commonDir: string) =>
  readRefFiles(commonDir, ['refs/heads/', 'refs/remotes/'], isBranchRef);

const isBranchRef = (name: string) => name.startsWith('refs/heads/') || name.startsWith('refs/remotes/');

/** for-each-ref's reading of a pattern without wildcards: the ref itself, or a folder of refs. */
export const underPattern = (ref: string, pattern: string) =>
  ref === pattern || ref.startsWith(pattern.endsWith('/') ? pattern : `${pattern}/`);

/**
 * A ref name git accepts, in the characters git's and our own refs use: no component that
 * starts with a dot or ends with `.lock`, no `..`, nothing git's check-ref-format refuses
 * (anything else is left to git, which skips the names it would not write).
 */
const plainRefName = (name: string) =>
  /^refs\/[\w+,=@-]+(\.[\w+,=@-]+)*(\/[\w+,=@-]+(\.[\w+,=@-]+)*)*$/.test(name) &&
  !name.includes('@{') &&
  !/\.lock(\/|$)/.test(name);
