import { contextAt, fileInWorktree, sessionOfConversation } from '../conversation.js';
import { type ClaudeEvent, type HookAnswer, silent, toolFile } from '../event.js';

/**
 * PostToolUse after an edit: records the file touched and refreshes the heartbeat. It runs
 * after every edit, so it writes only when there is news (a file not recorded yet, or a
 * heartbeat due: once per quarter of staleAfter) and shares in the background.
 */
export async function postToolUse(event: ClaudeEvent): Promise<HookAnswer> {
  const file = toolFile(event);
  const where = file ? await fileInWorktree(file) : undefined;
  const ctx = where?.ctx ?? (await contextAt(event.cwd));
  if (!ctx) return silent;
  const session = sessionOfConversation(ctx, event.sessionId);
  if (!session) return silent;
  const touched = where ? [where.relative] : [];
  const due = ctx.nowMs - Date.parse(session.heartbeatAt) >= ctx.config.sessions.staleAfterMs / 4;
  const news = touched.some((f) => !session.touchedFiles.includes(f));
  if (!due && !news) return silent;
  // Loaded only when there is something to write: the common case above stays light.
  const { refreshSession } = await import('../../services/sessions.js');
  refreshSession(ctx, session, { touched, share: 'background' });
  return silent;
}
