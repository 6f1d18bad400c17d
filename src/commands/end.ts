import { openContext } from '../context/context.js';
import { requireCurrentSession } from '../context/current-session.js';
import { parse } from '../core/args.js';
import { print, printJson, warn } from '../core/output.js';
import { sessionJson } from '../render/json.js';

import { endSession } from '../services/sessions.js';

import { viewOf } from '../services/view.js';

export async function run(argv: string[]): Promise<number> {
  const { values } = parse('end', argv, { session: { type: 'string' }, json: { type: 'boolean' } });
  const ctx = await openContext();
  const session = requireCurrentSession(ctx, values.session);
  const ended = await endSession(ctx, session);
  if (values.json) printJson(sessionJson(viewOf(ctx, ended.session)));
  else print(`Ended session ${ended.session.id} of ${ended.session.researcher}.`);
  if (!ended.shared.ok && ended.shared.reason !== 'no-remote')
    warn(`Not shared with the remote yet (${ended.shared.detail}); the next sync will share it.`);
  return 0;
}
