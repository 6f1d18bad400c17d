import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Context } from '../context/context.js';
import { realPath } from '../git/repo.js';
import { hooksDir } from './install.js';

/**
 * Whether the toolkit's git hooks run in this worktree: a clone where `init` never ran (or whose
 * core.hooksPath was changed since) has no gate on its pushes and registers no checkout, and
 * its user must hear so. Read from the configuration the context already holds: no git process.
 * The one line to print, or undefined when the hooks are active.
 */
export function inactiveHooks(ctx: Context): string | undefined {
  const ours = path.join(hooksDir(ctx.repo), '_');
  const active = realPath(gitHooksFolder(ctx)) === ours && existsSync(path.join(ours, 'pre-push'));
  if (active) return undefined;
  return (
    "warning: the toolkit's git hooks are not active in this clone, so nothing checks its pushes " +
    'against the coordination. Run git consortium init once in this clone (git consortium doctor says more).'
  );
}

/**
 * The folder git runs this worktree's hooks from, as `git rev-parse --git-path hooks` says, from
 * the configuration the context already holds: core.hooksPath (a leading `~/` is the home
 * folder, as git reads a path setting; relative to the worktree's top, where hooks run), else
 * the hooks folder of the common git dir.
 */
export function gitHooksFolder(ctx: Context): string {
  const configured = ctx.gitConfig('core.hooksPath');
  if (!configured) return path.join(ctx.repo.commonDir, 'hooks');
  const expanded = configured.startsWith('~/') ? path.join(homedir(), configured.slice(2)) : configured;
  return path.resolve(ctx.repo.top, expanded);
}
