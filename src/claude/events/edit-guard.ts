import { editedSpans } from '../../analysis/edit-lines.js';
import { splitLines } from '../../analysis/line-diff.js';
import type { Bypass, BypassForm, FileWrite } from '../../analysis/shell.js';
import type { Context } from '../../context/context.js';
import { personAttends } from '../../core/agent.js';
import { fnv1a } from '../../core/ids.js';
import { fromTop, realFile } from '../../core/paths.js';
import { theirChange } from '../../render/lines.js';
import { withRemedies, wordRemedies } from '../../render/remedies.js';
import {
  type EditReason,
  editVerdict,
  type LeasedWrite,
  leasedChanges,
  leasedWrites,
  protectedPath,
} from '../../services/edit-check.js';
import { lineMeetings } from '../../services/line-check.js';
import { rememberWarning, warnedLately } from '../../services/line-warnings.js';
import type { Session } from '../../store/sessions.js';
import { contextAt, fileInWorktree, sessionOfConversation } from '../conversation.js';
import { type ClaudeEvent, type HookAnswer, silent, specific, toolFile } from '../event.js';

/**
 * What PreToolUse decides once it must look at the coordination (pre-tool-use.ts reads the
 * event and a Bash command first, so that the common command costs no more than that).
 * - An edit gets the verdict the MCP server's may_edit gives: a block (a lease of another
 *   session, under policy.lease block) denies it with the holder and how to ask; a warning
 *   (protocol files other live sessions changed, another researcher's files) becomes context.
 * - A Bash command that plainly writes a file another session leases is denied the same way,
 *   and one that would push past the gate (SPEC section 9) is sent to a person: `ask` where a
 *   person attends, `deny` where none can answer (headless runs).
 * Anything else: no answer, and the tool goes on.
 */
export async function guardEdit(event: ClaudeEvent): Promise<HookAnswer> {
  const file = toolFile(event);
  if (!file) return silent;
  const where = await fileInWorktree(file);
  if (!where) return silent;
  const { ctx, relative } = where;
  const guarded = protectedPath(ctx, relative);
  if (guarded) return deny(`git-consortium: ${guarded}`);
  const verdict = editVerdict(ctx, relative, sessionOfConversation(ctx, event.sessionId), (current) =>
    editedSpans(event.toolName, event.toolInput, current),
  );
  const blocking = verdict.reasons.filter((r) => r.action === 'block');
  if (blocking.length) return deny(blocking.map(worded).join('\n'));
  if (verdict.reasons.length === 0) return silent;
  const notes = verdict.reasons.map(worded).join('\n');
  const lines = verdict.reasons.find((r) => r.kind === 'lines');
  const first =
    lines && warnFirst(ctx, editKey(event, relative, lines), `nothing was changed yet. ${notes}`, 'edit');
  return (
    first ?? { output: specific('PreToolUse', { additionalContext: `git-consortium: ${notes}` }), code: 0 }
  );
}

/**
 * A warning about lines (policy.lines warn), as a denial the first time: a context that allows
 * a tool reaches the model only after the tool ran, so it would come too late. The same edit or
 * command tried again within the window goes through (undefined: let it). Where the warning
 * cannot be remembered, denying would deny it for ever: it goes through then too.
 */
function warnFirst(
  ctx: Context,
  key: string,
  text: string,
  what: 'edit' | 'command',
): HookAnswer | undefined {
  if (warnedLately(ctx, key) || !rememberWarning(ctx, key)) return undefined;
  const again = what === 'edit' ? 'make the same edit again' : 'run the same command again';
  return deny(
    `git-consortium: ${text}\nThis is a warning, not a refusal: weigh it, and if this ${what} is still right, ${again} and it goes through.`,
  );
}

/**
 * The same edit: the same conversation, tool and input, file, and lines on both sides; another
 * edit of the same lines is warned again.
 */
function editKey(event: ClaudeEvent, file: string, reason: EditReason): string {
  const lines = (reason.meetings ?? []).map((m) => [
    m.session,
    m.mine.map((s) => [s.first, s.count]),
    m.theirs.map((t) => [t.base.first, t.base.count]),
  ]);
  const input = JSON.stringify(event.toolInput ?? {});
  return JSON.stringify([event.sessionId, event.toolName, `${fnv1a(input)}-${input.length}`, file, lines]);
}

/** A reason in the words of the agent that asked: it runs git consortium through Bash. */
const worded = (r: EditReason) => withRemedies(r.facts, r.remedies, { actor: 'agent', via: 'cli' });

/** A Bash command that the reader found writing files or going past the gate. */
export async function guardBash(
  event: ClaudeEvent,
  command: string,
  bypasses: Bypass[],
  writes: FileWrite[],
): Promise<HookAnswer> {
  const ctx = await contextAt(event.cwd);
  if (!ctx) return silent;
  if (bypasses.length) {
    const answer = bypassAnswer(bypasses, ctx.config.policy.agentOverride);
    if (answer) return answer;
  }
  const guarded = writes
    .map((w) => fromTop(ctx.repo.top, realFile(w.path)))
    .map((relative) => (relative === undefined ? undefined : protectedPath(ctx, relative)))
    .find(Boolean);
  if (guarded) return deny(`git-consortium: ${guarded} Nothing was run.`);
  const mine = sessionOfConversation(ctx, event.sessionId);
  const leased = leasedWrites(ctx, writes, mine).filter((w) => !puttingBack(ctx, command, w, mine));
  if (leased.length === 0) return linesOfCommand(ctx, event.sessionId, command, writes, mine);
  return deny(
    `git-consortium: this command would change ${leased.map((l) => `${l.path} (${l.how})`).join(', ')}, ` +
      `leased by another session:\n${leased.map((l) => `- ${worded(l.reason)}`).join('\n')}\nNothing was run.`,
  );
}

/**
 * A command that writes files in which other live sessions changed lines: which lines it
 * writes cannot be told from its text, so the whole file counts. Warned first as an edit is
 * (denied once, the same command again goes through), refused under policy.lines block.
 */
function linesOfCommand(
  ctx: Context,
  conversation: string,
  command: string,
  writes: FileWrite[],
  mine: Session | undefined,
): HookAnswer {
  const policy = ctx.config.policy.lines;
  if (policy === 'off') return silent;
  const wholeFile = (current: string | undefined) => [{ first: 1, count: splitLines(current ?? '').length }];
  const met = [...new Set(writes.map((w) => fromTop(ctx.repo.top, realFile(w.path))))]
    .filter((p): p is string => !!p)
    .flatMap((p) => lineMeetings(ctx, p, wholeFile, mine));
  if (met.length === 0) return silent;
  const researchers = [...new Set(met.map((m) => m.researcher))];
  const facts =
    `this command writes ${[...new Set(met.map((m) => m.path))].join(', ')}, where another live session changed lines: ` +
    met.map(theirChange).join(' ');
  const advice = wordRemedies([{ kind: 'agree', researchers, because: 'lines' }], {
    actor: 'agent',
    via: 'cli',
  });
  if (policy === 'block') return deny(`git-consortium: ${facts} ${advice} Nothing was run.`);
  const key = JSON.stringify([conversation, 'Bash', command]);
  return warnFirst(ctx, key, `nothing was run. ${facts} ${advice}`, 'command') ?? silent;
}

/**
 * Whether a write to a leased file puts back this worktree's own change to it, as PostToolUse
 * told the agent to: a restore from the branch's starting point, or the removal of a file the
 * worktree added. Checked only for those commands, so other writes cost nothing more.
 */
function puttingBack(ctx: Context, command: string, write: LeasedWrite, mine: Session | undefined): boolean {
  const restores = /^git (restore|checkout)$/.test(write.how);
  const removes = write.how === 'rm' || write.how === 'git rm';
  if (!restores && !removes) return false;
  const { base, changes } = leasedChanges(ctx, mine);
  const change = changes.find((c) => c.path === write.path);
  if (!base || !change) return false;
  // The restore PostToolUse gave: from the branch's starting point exactly, not any source.
  const fromBase = new RegExp(`(--source[= ]|\\s-s\\s*|\\scheckout\\s+)${base}(\\s|$)`);
  return restores ? !change.added && fromBase.test(command) : change.added;
}

const FORMS: Record<BypassForm, string> = {
  'override-variable': 'CONSORTIUM_OVERRIDE lets a push through the blocked gate',
  'push-option': 'a consortium push option asks the server to let the push through',
  'no-verify': '--no-verify skips the pre-push gate',
  'husky-off': 'HUSKY=0 turns the git hooks off',
  'consortium-off': 'CONSORTIUM=0 turns the git hooks off',
  'hooks-path': 'a core.hooksPath override turns the git hooks off',
  'coordination-refs': "writing the coordination refs by hand rewrites everyone's shared state",
  approval: "git consortium approve is a person's decision about their agent's push",
  'agent-env': 'it hides from the gate that an agent runs the push',
};

/**
 * The answer to a command that would go past the gate. Under policy.agentOverride allow, the
 * override itself may go to the gate (which records it as an agent's); everything else, and
 * the override under block or ask (where the gate refuses an agent anyway), goes to a person.
 */
function bypassAnswer(bypasses: Bypass[], policy: 'block' | 'ask' | 'allow'): HookAnswer | undefined {
  const overrides = new Set(['override-variable', 'push-option']);
  const relevant = bypasses.filter((b) => !(policy === 'allow' && overrides.has(b.form)));
  if (relevant.length === 0) return undefined;
  const what = [...new Set(relevant.map((b) => `${b.detail}: ${FORMS[b.form]}`))].join('; ');
  // A person clicking "allow" cannot help where the gate refuses an agent's override anyway.
  const gateRefuses = relevant.every((b) => overrides.has(b.form) || b.form === 'approval');
  if (personAttends() && !gateRefuses)
    return {
      output: specific('PreToolUse', {
        permissionDecision: 'ask',
        permissionDecisionReason:
          `git-consortium: this command goes past the consortium's push gate (${what}). ` +
          'Allow it only if you, a person, have decided that this push should land without the check.',
      }),
      code: 0,
    };
  return deny(
    `git-consortium: this command would go past the consortium's push gate (${what}). An agent may not do that. ` +
      'Stop and ask a person to decide: tell them what the push meets (git consortium check shows it). ' +
      'If it should land, a person does it from their own terminal.',
  );
}

function deny(reason: string): HookAnswer {
  return {
    output: specific('PreToolUse', { permissionDecision: 'deny', permissionDecisionReason: reason }),
    code: 0,
  };
}
