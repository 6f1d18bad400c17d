import { openContext } from '../context/context.js';
import { findCurrentSession } from '../context/current-session.js';
import { refreshSession } from '../services/sessions.js';

/**
 * post-commit (SPEC section 7): the current session's head and changed files now, shared in
 * the background so that others learn of committed work before it is pushed.
 */
export async function run(_args: string[]): Promise<number> {
  const ctx = await openContext();
  const session = findCurrentSession(ctx, { quiet: true });
  if (session?.state !== 'active') return 0;
  refreshSession(ctx, session, { force: true, share: 'background' });
  return 0;
}
