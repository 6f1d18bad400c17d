import path from 'node:path';
import { workOfSession } from '../analysis/conflicts.js';
import { leasesBlocking } from '../analysis/leases.js';
import { ownerOf } from '../analysis/push.js';
import type { Context } from '../context/context.js';
import { findCurrentSession } from '../context/current-session.js';
import { resolveIdentity } from '../context/identity.js';
import type { PolicyAction } from '../core/config.js';
import { usageError } from '../core/errors.js';
import { shown } from '../core/ids.js';
import { matchesAny } from '../core/patterns.js';
import { coordinationView } from '../services/view.js';

/**
 * May this path be edited now, by this session? What an agent asks the MCP server before it
 * writes: a lease of another session stands in the way (as `policy.lease` says), and protocol
 * files that other live sessions changed, or another researcher's workspace, call for care
 * (as `policy.protocol` and `policy.foreign` say).
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

export function editVerdict(ctx: Context, file: string, sessionFlag?: string): EditVerdict {
  const target = repoPath(ctx, file);
  const mine = findCurrentSession(ctx, { flag: sessionFlag, quiet: true });
  const me = mine?.researcher ?? resolveIdentity(ctx)?.id ?? null;
  const view = coordinationView(ctx);
  const reasons: EditReason[] = [];
  const { policy } = ctx.config;

  if (policy.lease !== 'off') {
    for (const lease of leasesBlocking(view.leases, target, mine?.id)) {
      reasons.push({
        kind: 'lease',
        action: policy.lease,
        sessions: [lease.session],
        researchers: [lease.researcher],
        message:
          `${target} is leased by ${lease.researcher} (session ${lease.session}, pattern ${lease.pattern}) until ${lease.expiresAt}` +
          `${lease.reason ? `: ${lease.reason}` : ''}. Ask ${lease.researcher} to release it, or wait for it to expire.`,
      });
    }
  }
  if (policy.protocol !== 'off' && matchesAny(target, ctx.config.protocol)) {
    const others = view.live.filter(
      (s) => s.id !== mine?.id && s.researcher !== me && workOfSession(s).includes(target),
    );
    if (others.length) {
      reasons.push({
        kind: 'protocol',
        action: 'warn',
        sessions: others.map((s) => s.id),
        researchers: [...new Set(others.map((s) => s.researcher))],
        message:
          `${target} is a protocol file that ${others.map((s) => `${s.researcher} (session ${s.id})`).join(', ')} also changed. ` +
          'Agree on one change with them before pushing: every researcher depends on it.',
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
      message: `${target} is in the workspace or owned paths of ${owner}. Change it only if ${owner} expects it.`,
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
