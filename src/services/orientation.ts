import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gatesOf } from '../analysis/gates.js';
import type { Context } from '../context/context.js';
import type { Identity } from '../context/identity.js';
import { newsFor } from './for-me.js';
import { gatesView } from './gates.js';

import { latestHandoff } from './handoff.js';

import { coordinationView } from './view.js';

/**
 * Where things stand for one researcher: identity, context excerpt, gates, sessions, latest
 * handoff and what changed since their last look. `orient` prints it, and the MCP server's
 * orient tool returns it, from this one place. Reading it counts as a look (alerts are news
 * only once).
 */
const EXCERPT_LINES = 12;

export function orientationOf(ctx: Context, identity: Identity, options: { markLooked?: boolean } = {}) {
  const id = identity.id;
  const me = ctx.researchers.get(id);
  const view = coordinationView(ctx);
  const { gates } = gatesView(ctx);
  return {
    identity,
    view,
    me,
    workspace: me?.workspace ?? ctx.config.workspaces.replace('*', id),
    context: me?.context ? excerpt(path.join(ctx.repo.top, me.context)) : undefined,
    gates,
    my: gatesOf(gates, id),
    mine: view.live.filter((s) => s.researcher === id),
    others: view.live.filter((s) => s.researcher !== id),
    handoff: latestHandoff(ctx, id),
    conflicts: view.conflicts.filter((c) => c.researchers.includes(id)),
    // SessionStart reads without marking them seen: the researcher's own orient still shows them.
    news: newsFor(ctx, id, options.markLooked ?? true),
  };
}

export type Orientation = ReturnType<typeof orientationOf>;

function excerpt(file: string): string | undefined {
  try {
    const lines = readFileSync(file, 'utf8').split('\n');
    return lines.slice(0, EXCERPT_LINES).join('\n').trimEnd() + (lines.length > EXCERPT_LINES ? '\n...' : '');
  } catch {
    return undefined;
  }
}
