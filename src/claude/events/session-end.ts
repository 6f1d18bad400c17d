import { markEnded } from '../../services/sessions.js';
import { sessionRef } from '../../store/refs.js';
import { shareInBackground } from '../../store/remote.js';
import { contextAt, sessionOfConversation } from '../conversation.js';
import { type ClaudeEvent, type HookAnswer, silent } from '../event.js';

/**
 * SessionEnd: ends the conversation's session (which releases its leases). Claude Code gives
 * all SessionEnd hooks together 1.5 s, so the record is written here and shared from a
 * detached process: nothing waits on the network.
 */
export async function sessionEnd(event: ClaudeEvent): Promise<HookAnswer> {
  const ctx = await contextAt(event.cwd);
  if (!ctx) return silent;
  const session = sessionOfConversation(ctx, event.sessionId);
  if (!session) return silent;
  markEnded(ctx, session);
  shareInBackground(ctx.repo, [sessionRef(session.id)]);
  return silent;
}
