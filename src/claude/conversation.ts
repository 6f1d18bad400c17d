import { existsSync } from 'node:fs';
import path from 'node:path';
import { isLive } from '../analysis/state.js';
import { type Context, openContext } from '../context/context.js';
import { ConsortiumError, EXIT } from '../core/errors.js';
import { fromTop, realFile } from '../core/paths.js';
import { conversationWorksIn, type Session } from '../store/sessions.js';

/**
 * What every Claude Code hook needs: the context of the worktree the event happens in, and
 * the consortium session bound to the Claude Code conversation.
 */

/** The open (not ended) session bound to a Claude Code conversation, live ones first. */
export function sessionOfConversation(ctx: Context, conversation: string): Session | undefined {
  const bound = ctx
    .sessions()
    .sessions.filter((s) => s.state === 'active' && conversationWorksIn(s, conversation))
    .sort((a, b) => (a.id < b.id ? 1 : -1));
  return bound.find((s) => isLive(s, ctx.nowMs, ctx.config.sessions.staleAfterMs)) ?? bound[0];
}

/** The context of a folder, or undefined when it is in no git worktree (nothing to coordinate). */
export async function contextAt(dir: string): Promise<Context | undefined> {
  // A conversation whose folder is gone (a removed worktree) has nothing left to coordinate.
  if (!existsSync(dir)) return undefined;
  try {
    return await openContext(dir);
  } catch (error) {
    if (
      error instanceof ConsortiumError &&
      error.exitCode === EXIT.environment &&
      /git repository|bare|work tree/i.test(error.message)
    )
      return undefined;
    throw error;
  }
}

/**
 * A file a tool names (absolute), seen from the worktree that holds it: its context and its
 * path from that worktree's top. Undefined for a file outside any worktree. The file itself may
 * not exist yet (Write creates it): its nearest existing folder decides.
 */
export async function fileInWorktree(file: string): Promise<{ ctx: Context; relative: string } | undefined> {
  const real = realFile(file);
  let dir = path.dirname(real);
  while (!existsSync(dir)) dir = path.dirname(dir);
  const ctx = await contextAt(dir);
  if (!ctx) return undefined;
  const relative = fromTop(ctx.repo.top, real);
  return relative ? { ctx, relative } : undefined;
}
