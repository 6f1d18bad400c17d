import { formatDuration } from '../../core/duration.js';
import type { LeasedChange } from '../../services/edit-check.js';
import { contextAt, fileInWorktree, sessionOfConversation } from '../conversation.js';
import { type ClaudeEvent, type HookAnswer, silent, toolFile } from '../event.js';

/**
 * PostToolUse.
 * - After an edit: records the file touched and refreshes the heartbeat. It runs after every
 *   edit, so it writes only when there is news (a file not recorded yet, or a heartbeat due:
 *   once per quarter of staleAfter) and shares in the background.
 * - After any Bash command: a file of this worktree that another session leases and that now
 *   differs from where the branch started is reported to the agent at once (whatever command
 *   changed it, however), with the holder and how to put it back.
 */
export async function postToolUse(event: ClaudeEvent): Promise<HookAnswer> {
  if (event.toolName === 'Bash') return postBash(event);
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

async function postBash(event: ClaudeEvent): Promise<HookAnswer> {
  const ctx = await contextAt(event.cwd);
  if (!ctx) return silent;
  const { leasedChanges } = await import('../../services/edit-check.js');
  const { base, lastPushed, changes } = leasedChanges(ctx, sessionOfConversation(ctx, event.sessionId));
  if (!base || changes.length === 0) return silent;
  const unique = (list: LeasedChange[]) => [...new Set(list.map((c) => quoted(c.path)))].join(' ');
  const restore = changes.filter((c) => c.differs && !c.added);
  const remove = changes.filter((c) => c.differs && c.added);
  const top = quoted(ctx.repo.top);
  const lines = changes.map(
    (c) =>
      `- ${c.path} is leased by ${c.researcher} (session ${c.session}, pattern ${c.pattern}) ` +
      `for ${formatDuration(Math.max(0, Date.parse(c.expiresAt) - ctx.nowMs))} more.`,
  );
  const steps: string[] = [];
  if (restore.length)
    steps.push(`  git -C ${top} restore --source=${base} --staged --worktree -- ${unique(restore)}`);
  if (remove.length)
    steps.push(
      `  git -C ${top} rm -q -f --cached --ignore-unmatch -- ${unique(remove)} && (cd ${top} && rm -f -- ${unique(remove)})`,
    );
  if (changes.some((c) => c.committed))
    steps.push(
      lastPushed
        ? `Your unpushed commits change it too, and the gate counts every commit: take them apart with git -C ${top} reset --soft ${lastPushed}, put the file back as above, and commit your own work again.`
        : 'Your unpushed commits change it too, and the gate counts every commit: rewrite them without that change.',
    );
  // Claude Code gives a PostToolUse "block" reason to the model: the command has already run.
  return {
    output: {
      decision: 'block',
      reason: [
        `git-consortium: this worktree now changes ${changes.length === 1 ? 'a file' : 'files'} that another session leases:`,
        ...lines,
        'Only the holder changes a leased file, and a push with this change is blocked. Put it back now:',
        ...steps,
        'Then leave the file alone until the lease ends or its holder releases it; ask them if you need it changed.',
      ].join('\n'),
    },
    code: 0,
  };
}

/** A path as the shell reads it back unchanged. */
const quoted = (p: string) => (/^[\w./@%+=:,-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`);
