import { fileWrites, gateBypasses } from '../../analysis/shell.js';
import { type ClaudeEvent, type HookAnswer, silent } from '../event.js';

/**
 * PreToolUse on Edit|Write|MultiEdit|NotebookEdit|Bash, on every tool call of the agent.
 * - An edit gets the verdict the MCP server's may_edit gives: a block (a lease of another
 *   session, under policy.lease block) denies it with the holder and how to ask; a warning
 *   (protocol files other live sessions changed, another researcher's files) becomes context.
 * - A Bash command that plainly writes a file another session leases is denied the same way,
 *   and one that would push past the gate (SPEC section 9) is sent to a person: `ask` where a
 *   person attends, `deny` where none can answer (headless runs).
 * Anything else: no answer, and the tool goes on. The common Bash command, which writes nothing
 * and pushes nothing, is answered from the command's text alone: no context, no git.
 */
export async function preToolUse(event: ClaudeEvent): Promise<HookAnswer> {
  if (event.toolName !== 'Bash') return (await import('./edit-guard.js')).guardEdit(event);
  const command = event.toolInput?.command;
  if (typeof command !== 'string' || !command.trim()) return silent;
  const bypasses = gateBypasses(command);
  const writes = fileWrites(command, event.cwd).writes;
  if (bypasses.length === 0 && writes.length === 0) return silent;
  return (await import('./edit-guard.js')).guardBash(event, command, bypasses, writes);
}
