import path from 'node:path';
import { researcherOfBranch } from '../core/branches.js';
import { usageError } from '../core/errors.js';
import { checkResearcherId, shown } from '../core/ids.js';
import { workspaceFolderOf, workspaceOwner } from '../core/workspaces.js';
import type { Context } from './context.js';
import { findCurrentSession, sessionsHere } from './current-session.js';

/**
 * Which researcher the caller is (SPEC section 4), in this order: the flag, the
 * CONSORTIUM_RESEARCHER variable, the researcher of the current session (when several live
 * sessions fit this worktree and branch, only if they all belong to one researcher), the
 * workspace folder around the current directory, a session branch checked out here, git
 * config. So standing in a colleague's folder does not change who you are in your own session.
 */
export interface Identity {
  id: string;
  source: string;
}

export function resolveIdentity(ctx: Context, flag?: string): Identity | undefined {
  flag ??= ctx.researcherFlag;
  if (flag !== undefined)
    return {
      id: known(ctx, checkResearcherId(flag, '--researcher'), '--researcher'),
      source: 'the --researcher flag',
    };
  const fromEnv = process.env.CONSORTIUM_RESEARCHER;
  if (fromEnv) {
    const id = known(ctx, checkResearcherId(fromEnv, 'CONSORTIUM_RESEARCHER'), 'CONSORTIUM_RESEARCHER');
    return { id, source: 'CONSORTIUM_RESEARCHER' };
  }
  const mine = sessionResearcher(ctx);
  if (mine) return mine;
  const relative = path.relative(ctx.repo.top, ctx.repo.cwd).split(path.sep).join('/');
  if (relative && !relative.startsWith('..')) {
    const owner = workspaceOwner(ctx.researchers, relative);
    if (owner) return { id: owner, source: 'the workspace folder you are in' };
    const folder = workspaceFolderOf(ctx.config, relative);
    if (folder !== undefined && !ctx.config.researchersListed) {
      return {
        id: checkResearcherId(folder, `the workspace folder ${ctx.config.workspaces.replace('*', folder)}`),
        source: 'the workspace folder you are in',
      };
    }
  }
  const branch = ctx.branch;
  if (branch) {
    const id = researcherOfBranch(branch, ctx.config.sessions.branchPrefix, ctx.researchers.keys());
    if (id && isKnown(ctx, id)) return { id, source: `the session branch ${branch}` };
  }
  const configured = ctx.gitConfig('consortium.researcher');
  if (configured) {
    return {
      id: known(
        ctx,
        checkResearcherId(configured, 'git config consortium.researcher'),
        'git config consortium.researcher',
      ),
      source: 'git config consortium.researcher',
    };
  }
  return undefined;
}

/** The researcher of the current session, or of every live session that fits here, if one. */
function sessionResearcher(ctx: Context): Identity | undefined {
  const session = findCurrentSession(ctx, { quiet: true });
  if (session) return { id: session.researcher, source: `your session ${session.id}` };
  const here = sessionsHere(ctx);
  const researchers = new Set(here.map((s) => s.researcher));
  if (here.length > 1 && researchers.size === 1)
    return { id: here[0]!.researcher, source: `your ${here.length} sessions on this worktree and branch` };
  return undefined;
}

export function requireIdentity(ctx: Context, flag?: string): Identity {
  const identity = resolveIdentity(ctx, flag);
  if (identity) return identity;
  const list = [...ctx.researchers.keys()];
  const example = '<your-id>';
  throw usageError(
    `Cannot tell which researcher you are. Give --researcher ${example}, set CONSORTIUM_RESEARCHER=${example}, ` +
      `work inside your workspace folder, or run: git config consortium.researcher ${example}` +
      (list.length ? ` (researchers: ${list.join(', ')}).` : '.'),
  );
}

function isKnown(ctx: Context, id: string): boolean {
  return ctx.researchers.size === 0 ? !ctx.config.researchersListed : ctx.researchers.has(id);
}

function known(ctx: Context, id: string, source: string): string {
  if (isKnown(ctx, id)) return id;
  const list = [...ctx.researchers.keys()];
  throw usageError(
    `${shown(id)} from ${source} is not a researcher of this consortium` +
      (list.length ? ` (researchers: ${list.join(', ')}).` : ': the configuration lists none.'),
  );
}
