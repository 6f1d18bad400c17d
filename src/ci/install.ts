import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { packageFile } from '../core/package-files.js';
import { version as toolkitVersion } from '../version.js';

/**
 * `init --github` (SPEC section 11): writes `.github/workflows/claude-session-sync.yml` from
 * the package's template, with this consortium's session branch prefix and this release of
 * the toolkit pinned. Running it again changes nothing; a workflow the user has edited is kept
 * unless `force`.
 */
export const TEMPLATE = packageFile('templates', 'github', 'claude-session-sync.yml');
export const WORKFLOW = '.github/workflows/claude-session-sync.yml';

/** The shape `init` reads: files written, and files left alone because they are the user's. */
export interface GithubInstallReport {
  written: string[];
  kept: string[];
  unchanged: string[];
}

/** The workflow text for a branch prefix and a toolkit version. */
export function workflowText(prefix: string, version: string = toolkitVersion): string {
  // Both are checked values (SPEC section 3 for the prefix): no quoting can be broken by them.
  if (!/^[A-Za-z0-9._/-]{1,40}$/.test(prefix)) throw new Error(`unexpected branch prefix ${prefix}`);
  if (!/^[0-9A-Za-z.+-]+$/.test(version)) throw new Error(`unexpected version ${version}`);
  return readFileSync(TEMPLATE, 'utf8')
    .replace("branches: ['claude-**']", `branches: ['${prefix}**']`)
    .replace("startsWith(github.head_ref, 'claude-')", `startsWith(github.head_ref, '${prefix}')`)
    .replace(/GIT_CONSORTIUM_VERSION: '[^']*'/, `GIT_CONSORTIUM_VERSION: '${version}'`);
}

export function installGithub(
  top: string,
  options: { force?: boolean; branchPrefix?: string } = {},
): GithubInstallReport {
  const report: GithubInstallReport = { written: [], kept: [], unchanged: [] };
  const file = path.join(top, WORKFLOW);
  const wanted = workflowText(options.branchPrefix ?? 'claude-');
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === wanted) report.unchanged.push(WORKFLOW);
  else if (current !== undefined && !options.force && !writtenByUs(current)) report.kept.push(WORKFLOW);
  else {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, wanted);
    report.written.push(WORKFLOW);
  }
  return report;
}

/**
 * A workflow we wrote and nobody edited since differs from the template only in what we fill
 * in: a new release may replace it. One edited by hand is the user's.
 */
function writtenByUs(text: string): boolean {
  const normal = (t: string) =>
    t
      .replace(/branches: \['[^']*\*\*'\]/, '')
      .replace(/startsWith\(github\.head_ref, '[^']*'\)/, '')
      .replace(/GIT_CONSORTIUM_VERSION: '[^']*'/, '');
  try {
    return normal(text) === normal(readFileSync(TEMPLATE, 'utf8'));
  } catch {
    return false;
  }
}
