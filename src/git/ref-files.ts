import { type Dirent, existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isObjectId } from './merge-tree.js';

/**
 * A stamp of the files git keeps some refs in: every loose ref file under `folders` (its
 * name, inode, time and size) and packed-refs. git writes a ref by renaming a new file into
 * place and packs refs by rewriting packed-refs, so any change to those refs changes the stamp.
 * Undefined for a ref store this does not know (reftable), and for files changed in the last
 * moments: a file's time has the resolution of the kernel's clock tick, so a change within
 * the same tick could leave the stamp as it was (git's "racy" index entries, the same way).
 */
export function refFilesStamp(commonDir: string, folders: string[]): string | undefined {
  if (existsSync(path.join(commonDir, 'reftable'))) return undefined;
  const parts: string[] = [];
  let newest = 0;
  let coarse = true;
  const stamp = (name: string) => {
    const stat = lstatSync(path.join(commonDir, name), { throwIfNoEntry: false });
    if (stat) newest = Math.max(newest, stat.mtimeMs);
    if (stat && stat.mtimeMs % 1000 !== 0) coarse = false;
    parts.push(stat ? `${name}:${stat.ino}:${stat.mtimeMs}:${stat.size}` : `${name}:-`);
  };
  const visit = (dir: string) => {
    let entries: Dirent[] = [];
    try {
      entries = readdirSync(path.join(commonDir, dir), { withFileTypes: true });
    } catch {}
    for (const entry of entries) {
      if (entry.isDirectory()) visit(`${dir}/${entry.name}`);
      else stamp(`${dir}/${entry.name}`);
    }
  };
  for (const folder of folders) visit(folder);
  stamp('packed-refs');
  parts.sort();
  // A file system that keeps whole seconds (ext3, HFS+, some network mounts) gets a window as wide.
  const racy = coarse ? 2000 : 100;
  return Date.now() - newest < racy ? undefined : parts.join('\n');
}

/**
 * The branches and remote-tracking refs (refs/heads/, refs/remotes/) read from git's files, as
 * `for-each-ref --format=%(refname) %(objectname) %(symref)` lists them, without starting git:
 * loose ref files (a ref file wins over its packed-refs line, as in git) and packed-refs, a
 * symbolic ref (refs/remotes/origin/HEAD) resolved to its target's id. Undefined, for git to
 * answer, as soon as anything is not as git 2.39's files store writes it: a reftable store,
 * a ref file that is neither an id nor `ref: <name>`, a packed-refs line of another shape, a
 * symbolic ref whose target is not a branch or is missing. (One difference is left: a ref
 * whose object is missing, in a damaged repository, is listed here where git skips it; the git
 * command given its id then says what is wrong.)
 */
export function readBranchRefFiles(
  commonDir: string,
): Map<string, { sha: string; symref: string }> | undefined {
  if (existsSync(path.join(commonDir, 'reftable'))) return undefined;
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
    if (isBranchRef(name)) ids.set(name, id);
  }
  const visit = (dir: string): boolean => {
    let entries: Dirent[];
    try {
      entries = readdirSync(path.join(commonDir, dir), { withFileTypes: true });
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENOENT';
    }
    for (const entry of entries) {
      const name = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!visit(name)) return false;
        continue;
      }
      // git's lock files, held for milliseconds while a ref is written
      if (entry.name.endsWith('.lock')) continue;
      if (!entry.isFile()) return false;
      let text: string;
      try {
        text = readFileSync(path.join(commonDir, name), 'utf8').trimEnd();
      } catch (error) {
        // removed since the folder was read: gone, as its packed line (if any) says
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        return false;
      }
      if (isObjectId(text)) {
        ids.set(name, text);
      } else if (text.startsWith('ref: ') && isBranchRef(text.slice(5))) {
        symbolic.set(name, text.slice(5));
        ids.delete(name);
      } else return false;
    }
    return true;
  };
  if (!visit('refs/heads') || !visit('refs/remotes')) return undefined;
  // `git pack-refs` moved refs from their files into packed-refs while they were read.
  if (packedStamp() !== before) return undefined;
  const found: [string, { sha: string; symref: string }][] = [...ids].map(([name, sha]) => [
    name,
    { sha, symref: '' },
  ]);
  for (const [name, target] of symbolic) {
    const sha = ids.get(target);
    if (!sha) return undefined;
    found.push([name, { sha, symref: target }]);
  }
  // In for-each-ref's order.
  return new Map(found.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}

const isBranchRef = (name: string) => name.startsWith('refs/heads/') || name.startsWith('refs/remotes/');
