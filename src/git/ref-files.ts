import { type Dirent, existsSync, lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';

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
