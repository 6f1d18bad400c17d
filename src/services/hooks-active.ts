import { existsSync } from 'node:fs';
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
  const configured = ctx.gitConfig('core.hooksPath');
  const active =
    !!configured &&
    realPath(path.resolve(ctx.repo.top, configured)) === ours &&
    existsSync(path.join(ours, 'pre-push'));
  if (active) return undefined;
  return (
    "warning: the toolkit's git hooks are not active in this clone, so nothing checks its pushes " +
    'against the coordination. Run git consortium init once in this clone (git consortium doctor says more).'
  );
}
