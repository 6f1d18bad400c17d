import { openContext } from '../context/context.js';
import { requireCurrentSession } from '../context/current-session.js';
import { parse } from '../core/args.js';
import { refreshSession } from '../services/sessions.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse('heartbeat', argv, { session: { type: 'string' } });
  const ctx = await openContext();
  const session = requireCurrentSession(ctx, values.session);
  refreshSession(ctx, session, { share: 'background' });
  return 0;
}
