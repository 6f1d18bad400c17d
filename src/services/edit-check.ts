import path from 'node:path';
import { workOfSession } from '../analysis/conflicts.js';
import { leasesBlocking } from '../analysis/leases.js';
import { ownerOf } from '../analysis/push.js';
import { isLive } from '../analysis/state.js';
import type { Context } from '../context/context.js';
import { resolveIdentity } from '../context/identity.js';
import type { PolicyAction } from '../core/config.js';
import { usageError } from '../core/errors.js';
import { shown } from '../core/ids.js';
import { matchesAny } from '../core/patterns.js';
import type { Session } from '../store/sessions.js';
import { currentLeases } from './leases.js';

/**
 * May this path be edited now, by this session? What an agent asks before it writes, through
 * the MCP server or Claude Code's PreToolUse hook alike: a lease of another session stands in
 * the way (as `policy.lease` says), and protocol files that other live sessions changed, or
 * another researcher's workspace, call for care (as `policy.protocol` and `policy.foreign` say).
 * It reads leases and live sessions only: the merge prediction of the whole coordination view
 * would run on every edit.
 */
export interface EditReason {
  kind: 'lease' | 'protocol' | 'foreign';
  action: Exclude<PolicyAction, 'off'>;
  sessions: string[];
  researchers: string[];
  message: string;
}

export interface EditVerdict {
  path: string;
  /** `deny`: a policy set to block stands in the way; `warn`: allowed, with care. */
  decision: 'allow' | 'warn' | 'deny';
  allowed: boolean;
  session: string | null;
  researcher: string | null;
  reasons: EditReason[];
}

/** A path as the coordination names it: from the top of the repository, with forward slashes. */
export function repoPath(ctx: Context, file: string): string {
  if (!file || /\0/.test(file)) throw usageError('Give the path of a file in the repository.');
  const absolute = path.resolve(ctx.repo.cwd, file);
  const relative = path.relative(ctx.repo.top, absolute).split(path.sep).join('/');
  if (!relative || relative === '..' || relative.startsWith('../') || path.isAbsolute(relative))
    throw usageError(`${shown(file)} is not inside the repository ${ctx.repo.top}.`);
  return relative;
}

/** `target` is a path from the top of the repository; `mine` the session that would edit it. */
export function editVerdict(ctx: Context, target: string, mine: Session | undefined): EditVerdict {
  const me = mine?.researcher ?? identityOrNull(ctx);
  const reasons: EditReason[] = [];
  const { policy } = ctx.config;

  if (policy.lease !== 'off') {
    for (const lease of leasesBlocking(currentLeases(ctx), target, mine?.id)) {
      reasons.push({
        kind: 'lease',
        action: policy.lease,
        sessions: [lease.session],
        researchers: [lease.researcher],
        message:
          `${target} is leased by ${lease.researcher} (session ${lease.session}, pattern ${lease.pattern}) until ${lease.expiresAt}` +
          `${lease.reason ? `: ${lease.reason}` : ''}. Ask ${lease.researcher} to release it ` +
          `(git consortium lease release ${lease.pattern} in their session), or wait for it to expire; meanwhile work on something else.`,
      });
    }
  }
  if (policy.protocol !== 'off' && matchesAny(target, ctx.config.protocol)) {
    const others = ctx
      .sessions()
      .sessions.filter(
        (s) =>
          isLive(s, ctx.nowMs, ctx.config.sessions.staleAfterMs) &&
          s.id !== mine?.id &&
          s.researcher !== me &&
          workOfSession(s).includes(target),
      );
    if (others.length) {
      reasons.push({
        kind: 'protocol',
        action: 'warn',
        sessions: others.map((s) => s.id),
        researchers: [...new Set(others.map((s) => s.researcher))],
        message:
          `${target} is a protocol file that ${others.map((s) => `${s.researcher} (session ${s.id}, branch ${s.branch ?? 'detached'})`).join(', ')} also changed. ` +
          'Every researcher depends on it: agree on one change with them before editing, or the push will meet a protocol conflict.',
      });
    }
  }
  const owner = ownerOf(ctx.researchers, target);
  if (policy.foreign !== 'off' && owner && me && owner !== me) {
    reasons.push({
      kind: 'foreign',
      action: 'warn',
      sessions: [],
      researchers: [owner],
      message: `${target} is in the workspace or owned paths of ${named(ctx, owner)}, not of ${me}: change another researcher's files only with their agreement.`,
    });
  }
  const decision = reasons.some((r) => r.action === 'block') ? 'deny' : reasons.length ? 'warn' : 'allow';
  return {
    path: target,
    decision,
    allowed: decision !== 'deny',
    session: mine?.id ?? null,
    researcher: me,
    reasons,
  };
}

/** Who is asking, when no session says so; an identity that cannot be told is no identity. */
function identityOrNull(ctx: Context): string | null {
  try {
    return resolveIdentity(ctx)?.id ?? null;
  } catch {
    return null;
  }
}

const named = (ctx: Context, id: string) => {
  const name = ctx.researchers.get(id)?.name;
  return name ? `${name} (${id})` : id;
};
