import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Config, Researcher } from './config.js';
import { researcherIdProblem } from './ids.js';

/**
 * Who the researchers are: those listed in the configuration, or else every folder that
 * matches `workspaces` (a folder whose name is not a valid id is not a workspace).
 */
export function researchersOf(config: Config, top: string): Map<string, Researcher> {
  if (config.researchersListed) return config.researchers;
  const found = new Map<string, Researcher>();
  const [before] = config.workspaces.split('*') as [string];
  let entries: string[] = [];
  try {
    entries = readdirSync(path.join(top, before), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    // no workspace folder yet
  }
  for (const name of entries.sort()) {
    if (researcherIdProblem(name)) continue;
    found.set(name, { id: name, workspace: config.workspaces.replace('*', name), owns: [], keys: [] });
  }
  return found;
}

/** The folder under `workspaces` that contains `relative` (a path from the top), if any. */
export function workspaceFolderOf(config: Config, relative: string): string | undefined {
  const pattern = config.workspaces.split('/');
  const star = pattern.indexOf('*');
  const parts = relative.split('/');
  if (parts.length <= star) return undefined;
  for (let i = 0; i < star; i++) if (parts[i] !== pattern[i]) return undefined;
  return parts[star];
}

/** The researcher whose workspace (or owned path) contains `file`, a path from the top. */
export function workspaceOwner(researchers: Map<string, Researcher>, file: string): string | undefined {
  for (const r of researchers.values()) {
    if (file === r.workspace || file.startsWith(`${r.workspace}/`)) return r.id;
  }
  return undefined;
}
