import { isLive } from '../analysis/state.js';
import { type Context, openContext } from '../context/context.js';
import { researcherOfBranch } from '../core/branches.js';
import { warn } from '../core/output.js';
import type { Agent } from '../store/sessions.js';

/**
 * post-checkout (SPEC section 7), for branch checkouts only (the hook body returns before
 * Node for file checkouts and while `start` checks out its own branch). A session branch
 * `<prefix><researcher>-...` gets a session for this worktree and branch: the one already
 * open here is refreshed (resumed, if it had gone stale), else a new one is registered.
 * The previous branch's session is left as it is. At most one line of output.
 */
export async function run(args: string[]): Promise<number> {
  if (args[2] !== '1') return 0;
  const newWorktree = /^0+$/.test(args[0] ?? '');
  if (!newWorktree && process.env.CONSORTIUM_STARTING === '1') return 0;
  const ctx = await openContext();
  if (newWorktree) await claudeSettingsForWorktree(ctx);
  if (process.env.CONSORTIUM_STARTING === '1') return 0;
  const branch = ctx.branch;
  if (!branch) return 0; // a detached HEAD (a rebase in progress, a tag): nobody's session
  const researcher = researcherOfBranch(branch, ctx.config.sessions.branchPrefix, ctx.researchers.keys());
  if (!researcher) return 0;
  if (ctx.researchers.size ? !ctx.researchers.has(researcher) : ctx.config.researchersListed) return 0;
  // Sessions bound to this worktree and branch (as sessionsOn and findCurrentSession read them),
  // stale ones included: coming back to a branch resumes its session.
  const open = ctx
    .sessions()
    .sessions.filter((s) => s.state === 'active' && s.worktree === ctx.repo.top && s.branch === branch)
    .sort((a, b) => b.heartbeatAt.localeCompare(a.heartbeatAt));
  const here = open[0];
  if (here) {
    const stale = !isLive(here, ctx.nowMs, ctx.config.sessions.staleAfterMs);
    // The common case, switching back to a live session's branch: its head is the one recorded
    // and its heartbeat is recent, so there is nothing to write (and no git to run).
    const due = ctx.nowMs - Date.parse(here.heartbeatAt) >= ctx.config.sessions.staleAfterMs / 4;
    if (!stale && !due && here.head === args[1]) return 0;
    const { refreshSession } = await import('../services/sessions.js');
    refreshSession(ctx, here, { force: stale, share: 'background' });
    if (stale) warn(`git-consortium: resumed session ${here.id} of ${here.researcher} on ${branch}.`);
    return 0;
  }
  // Someone who says who they are (CONSORTIUM_RESEARCHER, git config consortium.researcher)
  // checking out another researcher's session branch is reviewing it, not working as them.
  const me = declaredIdentity(ctx);
  if (me && me !== researcher) {
    warn(
      `git-consortium: ${branch} is ${researcher}'s session branch: no session registered for you (${me}).`,
    );
    return 0;
  }
  // Loaded only now: the lifecycle brings leases and pattern matching with it.
  const { startSession } = await import('../services/sessions.js');
  const started = await startSession(ctx, {
    researcher,
    branch: 'current',
    shared: false,
    agent: agentHere(),
    intent: '',
    share: 'background',
    head: args[1],
  });
  warn(`git-consortium: registered session ${started.session.id} for ${researcher} on ${branch}.`);
  return 0;
}

/**
 * A new linked worktree (git worktree add, start --worktree, Claude Code's own worktrees) gets
 * the Claude Code hooks of the main worktree in its own settings.local.json, which is
 * untracked and so does not come with the checkout.
 */
async function claudeSettingsForWorktree(ctx: Context): Promise<void> {
  const { worktreesOf } = await import('../services/install.js');
  // git lists the main worktree first (its folder need not hold the git dir: --separate-git-dir).
  const main = worktreesOf(ctx.repo)[0];
  if (!main || main === ctx.repo.top) return;
  const { installWorktreeSettings, worktreeHasHooks } = await import('../claude/install.js');
  if (worktreeHasHooks(main) && installWorktreeSettings(ctx.repo.top))
    warn('git-consortium: Claude Code hooks set up in this new worktree.');
}

/**
 * The researcher the caller declared (CONSORTIUM_RESEARCHER, git config consortium.researcher),
 * not the one the branch name implies: that is the question here.
 */
function declaredIdentity(ctx: Context): string | undefined {
  return process.env.CONSORTIUM_RESEARCHER || ctx.gitConfig('consortium.researcher');
}

/** A checkout made by a Claude Code agent carries its session id in the environment. */
function agentHere(): Agent {
  const id = process.env.CLAUDE_CODE_SESSION_ID;
  return id && /^[A-Za-z0-9._:-]{1,128}$/.test(id)
    ? { kind: 'claude-code', sessionId: id }
    : { kind: 'human' };
}
