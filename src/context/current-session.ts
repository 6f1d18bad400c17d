import { isLive } from '../analysis/state.js';
import { refusal, usageError } from '../core/errors.js';
import { isSessionId, shown } from '../core/ids.js';
import { conversationWorksIn, type Session } from '../store/sessions.js';
import type { Context } from './context.js';

/**
 * The session a command acts on (SPEC section 4): --session, else CONSORTIUM_SESSION, else the
 * live session of this Claude Code conversation, else the live session bound to this worktree
 * and its checked-out branch.
 */
export function findCurrentSession(
  ctx: Context,
  options: { flag?: string; quiet?: boolean } = {},
): Session | undefined {
  const explicit = options.flag ?? (process.env.CONSORTIUM_SESSION || undefined);
  const { sessions } = ctx.sessions();
  if (explicit !== undefined) {
    const source = options.flag !== undefined ? '--session' : 'CONSORTIUM_SESSION';
    const found = sessionNamed(sessions, explicit, source);
    if (!found && !options.quiet)
      throw usageError(
        `There is no session ${shown(explicit)} (from ${source}); git consortium status --all lists them.`,
      );
    return found;
  }
  // Live sessions first; a stale one (not ended) is still the one to resume here.
  const open = sessions.filter((s) => s.state === 'active');
  const liveOnes = open.filter((s) => isLive(s, ctx.nowMs, ctx.config.sessions.staleAfterMs));
  const claude = process.env.CLAUDE_CODE_SESSION_ID;
  if (claude) {
    const mine = [...liveOnes, ...open].find((s) => conversationWorksIn(s, claude));
    if (mine) return mine;
  }
  const here = sessionsHere(ctx);
  if (here.length <= 1) return here[0];
  if (options.quiet) return undefined;
  throw usageError(
    `${here.length} active sessions work on this worktree and branch: ${here.map((s) => `${s.id} (${s.researcher})`).join(', ')}. ` +
      'Name one with --session ID.',
  );
}

/**
 * The session an id names: the whole id, or (as git takes abbreviated hashes) any unique prefix
 * or suffix of it, such as the six characters status shows. Several: exit 2, listing them.
 */
function sessionNamed(sessions: Session[], given: string, source: string): Session | undefined {
  if (isSessionId(given)) return sessions.find((s) => s.id === given);
  if (!/^[0-9a-f-]{4,40}$/.test(given))
    throw usageError(
      `${shown(given)} from ${source} is not a session id (they look like 20261125-084428123-4f2a9c, or its last six characters).`,
    );
  const matches = sessions.filter((s) => s.id.startsWith(given) || s.id.endsWith(given));
  if (matches.length > 1)
    throw usageError(
      `${shown(given)} from ${source} names ${matches.length} sessions: ${matches
        .slice(0, 8)
        .map((s) => `${s.id} (${s.researcher}, ${s.state})`)
        .join(', ')}. Give more of the id.`,
    );
  return matches[0];
}

/**
 * The sessions bound to this worktree and its checked-out branch: the live ones, else those
 * still open (a stale session is still the one to resume here).
 */
export function sessionsHere(ctx: Context): Session[] {
  const open = ctx.sessions().sessions.filter((s) => s.state === 'active');
  const branch = ctx.branch ?? null;
  const fits = open.filter((s) => s.worktree === ctx.repo.top && s.branch === branch);
  const live = fits.filter((s) => isLive(s, ctx.nowMs, ctx.config.sessions.staleAfterMs));
  return live.length ? live : fits;
}

export function requireCurrentSession(ctx: Context, flag?: string): Session {
  const session = findCurrentSession(ctx, { flag });
  if (session) return session;
  const where = ctx.branch ? `on branch ${ctx.branch} in this worktree` : 'in this worktree';
  throw refusal(
    `No active session ${where}. Start one with git consortium start, or name one with --session ID.`,
  );
}
