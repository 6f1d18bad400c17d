import type { Context } from '../context/context.js';
import { findCurrentSession } from '../context/current-session.js';
import { checkedOutBranch, isAncestor, resolveRef } from '../git/refs.js';
import { hasUncommittedChanges, rebaseOnto } from '../git/worktrees.js';

export interface RebaseOutcome {
  branch: string;
  onto: string;
  status: 'rebased' | 'up-to-date' | 'conflict' | 'refused';
  /** Files that conflicted (status conflict). */
  conflicts: string[];
  message: string;
}

const sha = (ctx: Context, ref: string) => resolveRef(ctx.repo, ref);

/**
 * `sync --rebase`: rebases the current session's branch onto the default branch, in its
 * worktree. When that conflicts (or cannot start), everything is put back as it was.
 */
export async function rebaseMine(ctx: Context, branchName: string, tracking: string): Promise<RebaseOutcome> {
  const session = findCurrentSession(ctx, { quiet: true });
  const branch = session?.branch ?? ctx.branch;
  const onto = sha(ctx, tracking) ? tracking : `refs/heads/${branchName}`;
  const result = (status: RebaseOutcome['status'], message: string, conflicts: string[] = []) => ({
    branch: branch ?? '',
    onto: onto.replace(/^refs\/(remotes|heads)\//, ''),
    status,
    conflicts,
    message,
  });
  if (!branch) return result('refused', 'There is no session branch checked out here to rebase.');
  if (branch === branchName)
    return result('refused', `You are on ${branchName} itself: there is nothing to rebase.`);
  const cwd = session && session.worktree !== ctx.repo.top ? session.worktree : ctx.repo.top;
  const checkedOut = checkedOutBranch(cwd);
  if (checkedOut !== branch)
    return result('refused', `${branch} is not checked out in ${cwd}; check it out to rebase it.`);
  if (await hasUncommittedChanges(cwd))
    return result('refused', 'The worktree has uncommitted changes: commit them first; nothing was rebased.');
  const base = sha(ctx, onto);
  const head = sha(ctx, `refs/heads/${branch}`);
  if (!base || !head) return result('refused', `Cannot find ${onto} to rebase onto.`);
  if (isAncestor(ctx.repo, base, head)) return result('up-to-date', `${branch} already contains ${onto}.`);
  const env = { CONSORTIUM_STARTING: '1' };
  const run = await rebaseOnto(cwd, onto, env);
  if (run.ok) return result('rebased', `Rebased ${branch} onto ${result('rebased', '').onto}.`);
  const conflicts = run.conflicts;
  return result(
    'conflict',
    `Rebasing ${branch} onto ${onto.replace(/^refs\/(remotes|heads)\//, '')} conflicts${conflicts.length ? ` in ${conflicts.join(', ')}` : ''}; it was aborted and everything is as it was.`,
    conflicts,
  );
}
