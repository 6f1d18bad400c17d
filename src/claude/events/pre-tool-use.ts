import { workOfSession } from '../../analysis/conflicts.js';
import { leasesBlocking } from '../../analysis/leases.js';
import { isLive } from '../../analysis/state.js';
import { resolveIdentity } from '../../context/identity.js';
import type { Researcher } from '../../core/config.js';
import { matchesAny } from '../../core/patterns.js';
import { currentLeases } from '../../services/leases.js';
import { fileInWorktree, sessionOfConversation } from '../conversation.js';
import { type ClaudeEvent, type HookAnswer, silent, specific, toolFile } from '../event.js';

/**
 * PreToolUse on Edit|Write|MultiEdit|NotebookEdit: an edit of a file another session leases is
 * denied (policy.lease block) with the holder and how to ask; protocol files other live
 * sessions have changed, and files of other researchers, get context for the agent instead
 * (policy.protocol / policy.foreign not off). Anything else: no answer, the edit goes on.
 */
export async function preToolUse(event: ClaudeEvent): Promise<HookAnswer> {
  const file = toolFile(event);
  if (!file) return silent;
  const where = await fileInWorktree(file);
  if (!where) return silent;
  const { ctx, relative } = where;
  const { policy } = ctx.config;
  const mine = sessionOfConversation(ctx, event.sessionId);
  // Only leases and live sessions: not the whole coordinationView, whose merge prediction
  // would run on every edit the agent makes.
  const leases = currentLeases(ctx);
  const live = ctx.sessions().sessions.filter((s) => isLive(s, ctx.nowMs, ctx.config.sessions.staleAfterMs));
  const notes: string[] = [];

  const held = policy.lease === 'off' ? [] : leasesBlocking(leases, relative, mine?.id);
  if (held.length) {
    const holders = held.map(
      (l) =>
        `${l.researcher} (session ${l.session}, lease ${l.pattern} until ${l.expiresAt}${l.reason ? `: ${l.reason}` : ''})`,
    );
    const text =
      `${relative} is leased by ${holders.join(' and ')}. ` +
      `Ask ${[...new Set(held.map((l) => l.researcher))].join(' and ')} to release it (git consortium lease release ${held[0]!.pattern} in their session) ` +
      'or wait until the lease expires; meanwhile work on something else. git consortium lease list shows every lease.';
    if (policy.lease === 'block')
      return {
        output: specific('PreToolUse', { permissionDecision: 'deny', permissionDecisionReason: text }),
        code: 0,
      };
    notes.push(text);
  }

  if (policy.protocol !== 'off' && matchesAny(relative, ctx.config.protocol)) {
    const others = live.filter((s) => s.id !== mine?.id && workOfSession(s).includes(relative));
    if (others.length)
      notes.push(
        `${relative} is a protocol file that ${others.map((s) => `${s.researcher} (session ${s.id}, branch ${s.branch ?? 'detached'})`).join(' and ')} also changed. ` +
          'Every researcher depends on it: agree on one change with them before editing, or the push will meet a protocol conflict.',
      );
  }

  if (policy.foreign !== 'off') {
    let me = mine?.researcher;
    if (!me) {
      try {
        me = resolveIdentity(ctx)?.id;
      } catch {
        me = undefined;
      }
    }
    const owners = ownersOf(ctx.researchers, relative).filter((r) => r.id !== me);
    if (me && owners.length)
      notes.push(
        `${relative} belongs to ${owners.map((r) => (r.name ? `${r.name} (${r.id})` : r.id)).join(' and ')}, not to ${me}: ` +
          "change another researcher's files only with their agreement.",
      );
  }
  if (notes.length === 0) return silent;
  return {
    output: specific('PreToolUse', { additionalContext: `git-consortium: ${notes.join('\n')}` }),
    code: 0,
  };
}

/** The researchers whose workspace or owned paths hold `file`. */
function ownersOf(researchers: Map<string, Researcher>, file: string): Researcher[] {
  return [...researchers.values()].filter(
    (r) => file === r.workspace || file.startsWith(`${r.workspace}/`) || matchesAny(file, r.owns),
  );
}
