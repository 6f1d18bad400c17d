import type { Context } from '../../context/context.js';
import { authorFor, markEnded } from '../../services/sessions.js';
import { sessionRef } from '../../store/refs.js';
import { shareInBackground } from '../../store/remote.js';
import { type Session, updateSession } from '../../store/sessions.js';
import { contextAt, sessionOfConversation } from '../conversation.js';
import { type ClaudeEvent, type HookAnswer, silent } from '../event.js';

/**
 * SessionEnd: ends the conversation's own session (which releases its leases). A session a
 * person started, which the conversation only worked in, stays active with its leases: only
 * the conversation's name leaves the record. Claude Code gives all SessionEnd hooks together
 * 1.5 s, so the record is written here and shared from a detached process: nothing waits on
 * the network.
 */
export async function sessionEnd(event: ClaudeEvent): Promise<HookAnswer> {
  const ctx = await contextAt(event.cwd);
  if (!ctx) return silent;
  const session = sessionOfConversation(ctx, event.sessionId);
  if (!session) return silent;
  if (session.agent.kind === 'human') leave(ctx, session, event.sessionId);
  else markEnded(ctx, session);
  shareInBackground(ctx.repo, [sessionRef(session.id)]);
  return silent;
}

function leave(ctx: Context, session: Session, conversation: string): void {
  updateSession(
    ctx.repo,
    session.id,
    'conversation leaves',
    (record) =>
      record.state === 'active' && record.conversation?.sessionId === conversation
        ? { ...record, conversation: null }
        : undefined,
    authorFor(ctx, session.researcher),
  );
}
