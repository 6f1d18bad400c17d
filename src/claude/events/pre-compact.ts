import type { Context } from '../../context/context.js';
import { compactionNotes } from '../../render/handoff.js';
import { type Handoff, handoffOf, writeHandoff } from '../../services/handoff.js';
import { conversationWorksIn } from '../../store/sessions.js';
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
  const note =
    `Claude Code compacted this conversation (${event.trigger === 'manual' ? '/compact' : 'automatically'}).` +
    (instructions ? ` The user's instructions for the compaction: ${instructions}` : '');
  // No summary of its own: the handoff keeps what this conversation's last handoff said.
  const written = await writeHandoff(ctx, session, {
    summary: '',
    next: [],
    note,
    previous: latestHandoffOfConversation(ctx, event.sessionId),
  });
  // Plain text: Claude Code appends it to the compaction's instructions, word for word.
  return { output: compactionNotes(written.facts), code: 0 };
}

/** The latest handoff of any session this conversation worked in (a compact ends one and starts the next). */
function latestHandoffOfConversation(ctx: Context, conversation: string): Handoff | undefined {
  let latest: Handoff | undefined;
  for (const s of ctx.sessions().sessions) {
    if (!conversationWorksIn(s, conversation)) continue;
    const h = handoffOf(s);
    if (h && (!latest || h.at > latest.at)) latest = h;
  }
  return latest;
}
