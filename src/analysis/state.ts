import type { Session } from '../store/sessions.js';

/**
 * A session's state as everyone sees it: stale is never stored, it is what an active session
 * becomes when its heartbeats stop for longer than `sessions.staleAfter`.
 */
export type SessionState = 'active' | 'stale' | 'ended' | 'merged';

export function stateOf(
  session: Pick<Session, 'state' | 'heartbeatAt'>,
  nowMs: number,
  staleAfterMs: number,
): SessionState {
  if (session.state !== 'active') return session.state;
  return nowMs - Date.parse(session.heartbeatAt) > staleAfterMs ? 'stale' : 'active';
}

export const isLive = (session: Session, nowMs: number, staleAfterMs: number) =>
  stateOf(session, nowMs, staleAfterMs) === 'active';
