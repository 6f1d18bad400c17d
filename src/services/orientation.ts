import { readFileSync } from 'node:fs';
import path from 'node:path';
import { blockedBy, type GateStatus, gatesOf } from '../analysis/gates.js';
import { gateJson } from '../commands/gates.js';
import { handoffJson } from '../commands/handoff.js';
import type { Context } from '../context/context.js';
import type { Identity } from '../context/identity.js';
import { alertsSinceLastLook, gatesView } from './gates.js';
import { latestHandoff } from './handoff.js';
import { coordinationView, sessionJson } from './view.js';

/**
 * Where things stand for one researcher: identity, context excerpt, gates, sessions, latest
 * handoff and what changed since their last look. `orient` prints it, and the MCP server's
 * orient tool returns it, from this one place. Reading it counts as a look (alerts are news
 * only once).
 */
const EXCERPT_LINES = 12;

export function orientationOf(ctx: Context, identity: Identity) {
  const id = identity.id;
  const me = ctx.researchers.get(id);
  const view = coordinationView(ctx);
  const { gates } = gatesView(ctx);
  return {
    identity,
    me,
    workspace: me?.workspace ?? ctx.config.workspaces.replace('*', id),
    context: me?.context ? excerpt(path.join(ctx.repo.top, me.context)) : undefined,
    gates,
    my: gatesOf(gates, id),
    mine: view.live.filter((s) => s.researcher === id),
    others: view.live.filter((s) => s.researcher !== id),
    handoff: latestHandoff(ctx, id),
    conflicts: view.conflicts.filter((c) => c.researchers.includes(id)),
    news: alertsSinceLastLook(ctx, id, true),
  };
}

export type Orientation = ReturnType<typeof orientationOf>;

/** `orient --json` (SPEC section 6). */
export function orientationJson(o: Orientation) {
  const { identity, me, my, gates } = o;
  return {
    researcher: identity.id,
    source: identity.source,
    name: me?.name ?? null,
    role: me?.role ?? null,
    workspace: o.workspace,
    context: me?.context ? { file: me.context, excerpt: o.context ?? null } : null,
    gates: {
      owned: my.owned.map(brief),
      waitingOn: my.waitingOn.map(brief),
      waitingOnMe: my.waitingOnMe.map((g) => ({ ...brief(g), neededBy: blockedBy(gates, g.id) })),
    },
    sessions: { mine: o.mine.map(sessionJson), others: o.others.map(sessionJson) },
    handoff: o.handoff ? handoffJson(o.handoff) : null,
    alerts: [
      ...o.news,
      ...o.conflicts.map((c) => ({
        kind: c.kind,
        severity: c.severity,
        message: c.message,
        sessions: c.sessions,
        paths: c.paths,
      })),
    ],
  };
}

/** A gate as orient shows it: its last change only (gates --json has the whole history). */
function brief(g: GateStatus) {
  const { history, ...rest } = gateJson(g);
  return { ...rest, last: history.at(-1) ?? null };
}

function excerpt(file: string): string | undefined {
  try {
    const lines = readFileSync(file, 'utf8').split('\n');
    return lines.slice(0, EXCERPT_LINES).join('\n').trimEnd() + (lines.length > EXCERPT_LINES ? '\n...' : '');
  } catch {
    return undefined;
  }
}
