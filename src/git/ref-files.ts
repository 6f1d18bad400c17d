import { existsSync, lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * A stamp of the files git keeps some refs in: every loose ref file under `folders` (its
 * name, inode, time and size) and packed-refs. git writes a ref by renaming a new file into
 * place and packs refs by rewriting packed-refs, so any change to those refs changes the stamp.
 * Undefined for a ref store this does not know (reftable): there is nothing to compare then.
 */
export function refFilesStamp(commonDir: string, folders: string[]): string | undefined {
  if (existsSync(path.join(commonDir, 'reftable'))) return undefined;
  const parts: string[] = [];
  const visit = (dir: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(path.join(commonDir, dir), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const name = `${dir}/${entry.name}`;
      if (entry.isDirectory()) visit(name);
      else parts.push(`${name}:${statPart(path.join(commonDir, name))}`);
    }
  };
  for (const folder of folders) visit(folder);
  parts.sort();
  parts.push(`packed-refs:${statPart(path.join(commonDir, 'packed-refs'))}`);
  return parts.join('\n');
}

function statPart(file: string): string {
  const stat = lstatSync(file, { throwIfNoEntry: false, bigint: true });
  return stat ? `${stat.ino}:${stat.mtimeNs}:${stat.size}` : '-';
}
