import { editVerdict } from '../../services/edit-check.js';
import { fileInWorktree, sessionOfConversation } from '../conversation.js';
import { type ClaudeEvent, type HookAnswer, silent, specific, toolFile } from '../event.js';

/**
 * PreToolUse on Edit|Write|MultiEdit|NotebookEdit: the same verdict the MCP server's may_edit
 * gives. A block (a lease of another session, under policy.lease block) denies the edit with
 * the holder and how to ask; a warning (protocol files other live sessions changed, another
 * researcher's files) becomes context for the agent. Anything else: no answer, the edit goes on.
 */
export async function preToolUse(event: ClaudeEvent): Promise<HookAnswer> {
  const file = toolFile(event);
  if (!file) return silent;
  const where = await fileInWorktree(file);
  if (!where) return silent;
  const { ctx, relative } = where;
  const verdict = editVerdict(ctx, relative, sessionOfConversation(ctx, event.sessionId));
  const blocking = verdict.reasons.filter((r) => r.action === 'block');
  if (blocking.length) {
    const reason = blocking.map((r) => r.message).join('\n');
    return {
      output: specific('PreToolUse', { permissionDecision: 'deny', permissionDecisionReason: reason }),
      code: 0,
    };
  }
  if (verdict.reasons.length === 0) return silent;
  const notes = verdict.reasons.map((r) => r.message).join('\n');
  return { output: specific('PreToolUse', { additionalContext: `git-consortium: ${notes}` }), code: 0 };
}
