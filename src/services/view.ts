import {
  type Conflict,
  leaseConflicts,
  protocolConflicts,
  sortConflicts,
  worktreeConflicts,
} from '../analysis/conflicts.js';
import type { LeaseView } from '../analysis/leases.js';
import { type SessionState, stateOf } from '../analysis/state.js';
import type { Context } from '../context/context.js';
import type { Session } from '../store/sessions.js';
import { currentLeases } from './leases.js';
import { predictMergeConflicts } from './predict.js';

/**
 * The coordination state as every reader sees it (status, orient, check, the hooks): sessions
 * with their effective state, the leases held and the conflicts between live sessions.
 */
export interface SessionView extends Session {
  effectiveState: SessionState;
  leases: string[];
}

export interface CoordinationView {
  sessions: SessionView[];
  live: SessionView[];
  leases: LeaseView[];
  conflicts: Conflict[];
}

export function coordinationView(ctx: Context): CoordinationView {
  const staleAfter = ctx.config.sessions.staleAfterMs;
  const sessions: SessionView[] = ctx
    .sessions()
    .sessions.map((s) => ({ ...s, effectiveState: stateOf(s, ctx.nowMs, staleAfter), leases: [] }));
  const leases: LeaseView[] = currentLeases(ctx);
  for (const lease of leases) sessions.find((s) => s.id === lease.session)?.leases.push(lease.pattern);
  const live = sessions.filter((s) => s.effectiveState === 'active');
  const conflicts = [
    ...worktreeConflicts(live),
    ...protocolConflicts(live, ctx.config.protocol),
    ...leaseConflicts(live, leases),
    ...predictMergeConflicts(ctx, live),
  ];
  return { sessions, live, leases, conflicts: sortConflicts(conflicts) };
}

/** A session as the JSON outputs show it (SPEC section 6). */

export function viewOf(ctx: Context, session: Session): SessionView {
  return {
    ...session,
    effectiveState: stateOf(session, ctx.nowMs, ctx.config.sessions.staleAfterMs),
    leases: [],
  };
}
