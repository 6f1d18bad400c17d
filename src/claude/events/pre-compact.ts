import { compactionNotes } from '../../render/handoff.js';
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
  const written = await writeHandoff(ctx, session, { summary, next: [] });
  // Plain text: Claude Code appends it to the compaction's instructions, word for word.
  return { output: compactionNotes(written.facts), code: 0 };
}
