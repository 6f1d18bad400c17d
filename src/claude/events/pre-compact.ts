import { writeHandoff } from '../../services/handoff.js';
import { contextAt, sessionOfConversation } from '../conversation.js';
import { type ClaudeEvent, type HookAnswer, silent } from '../event.js';

/**
 * PreCompact (manual or auto): writes the session's handoff before the conversation loses its
 * context; SessionStart with source `compact` brings it back. The text typed after /compact
 * (instructions for the summary) is kept in the handoff's summary.
 */
export async function preCompact(event: ClaudeEvent): Promise<HookAnswer> {
  const ctx = await contextAt(event.cwd);
  if (!ctx) return silent;
  const session = sessionOfConversation(ctx, event.sessionId);
  if (!session) return silent;
  const instructions = event.customInstructions?.trim();
  const summary =
    `Claude Code compacted this conversation (${event.trigger === 'manual' ? '/compact' : 'automatically'}).` +
    (instructions ? `\n\nThe user's instructions for the compaction: ${instructions}` : '');
  await writeHandoff(ctx, session, { summary, next: [] });
  return {
    output: { systemMessage: `git-consortium: handoff of session ${session.id} written before compaction.` },
    code: 0,
  };
}
