import type { Context } from '../context/context.js';
import { now } from '../core/clock.js';
import { recordHistory } from '../git/history.js';
import type { Repo } from '../git/repo.js';
import { forcedLeaseEvents, overrideEvents } from '../store/events.js';
import { gateEventCommits } from '../store/gates.js';
import { parseMessage } from '../store/records.js';
import { MIRRORED_SESSIONS, SESSIONS } from '../store/refs.js';

/**
 * The audit trail for external validation (SPEC section 6 `audit`): every session change,
 * push override, forced lease, gate change, handoff and folded checkpoint of the period, read
 * from the records' own history (the commits of the coordination refs, and the notes), each
 * with the commit id a reviewer can check with `git show`. Reading only: nothing is written.
 */
export interface AuditEvent {
  at: string;
  kind: 'session' | 'handoff' | 'checkpoint' | 'gate' | 'override' | 'lease';
  action: string;
  by: string;
  session: string | null;
  what: string;
  /** The record commit (or, for a note, the commit the note is about). */
  commit: string;
  /** Overrides: whether a person or an agent made it. */
  actor?: 'person' | 'agent';
  /** Overrides: whether the push landed (null: not known yet). */
  landed?: boolean | null;
}

export interface AuditTrail {
  since: string | null;
  until: string;
  events: AuditEvent[];
}

/** Every event of the period (all of it without `sinceMs`), oldest first. */
export async function auditTrail(ctx: Context, sinceMs?: number): Promise<AuditTrail> {
  const until = now().toISOString();
  const since = sinceMs === undefined ? null : new Date(now().getTime() - sinceMs).toISOString();
  const parts = await Promise.all([
    sessionEvents(ctx.repo),
    gateEvents(ctx.repo),
    noteEvents(ctx.repo),
    leaseEvents(ctx.repo),
  ]);
  const events = parts
    .flat()
    .filter((e) => (!since || e.at >= since) && e.at <= until)
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.commit < b.commit ? -1 : 1));
  return { since, until, events };
}

const utc = (date: string) => {
  const t = Date.parse(date);
  return Number.isNaN(t) ? date : new Date(t).toISOString();
};

/** Commits of a set of record refs: id, author time, subject, body (one git process). */
async function history(
  repo: Repo,
  globs: string[],
): Promise<{ commit: string; at: string; subject: string; body: unknown }[]> {
  const found = [];
  for (const { sha: commit, at, message } of await recordHistory(repo, globs)) {
    const parsed = parseMessage('commit', message);
    if ('reason' in parsed) continue;
    found.push({ commit, at: utc(at), subject: parsed.subject, body: parsed.body });
  }
  return found;
}

async function sessionEvents(repo: Repo): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  // Archived sessions' history is reachable from the archive (store/archive.ts): listed the same.
  const archive = ['refs/consortium/archiv[e]', 'refs/consortium-remote/archiv[e]'];
  for (const c of await history(repo, [`${SESSIONS}*`, `${MIRRORED_SESSIONS}*`, ...archive])) {
    const match = /^session (\S+): (.+)$/.exec(c.subject);
    const body = c.body as Record<string, unknown> | null;
    if (!match || !body || typeof body.researcher !== 'string') continue;
    const [, id = '', full = ''] = match;
    // "start (elena-vasquez)": the researcher is its own column.
    const action = full.replace(/ \([^)]*\)$/, '');
    // Heartbeats are liveness, not events a reviewer needs: they would drown the trail.
    if (action === 'heartbeat') continue;
    const extra = (body.extra ?? {}) as Record<string, unknown>;
    const kind = action === 'handoff' ? 'handoff' : action === 'checkpoint' ? 'checkpoint' : 'session';
    let what = `${body.branch ? `on ${body.branch}` : 'no branch'}${body.intent ? `: ${body.intent}` : ''}`;
    // Record commits carry whole seconds; the record's own times are exact.
    const stamp = (value: unknown) =>
      typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? utc(value) : c.at;
    let at = action === 'start' ? stamp(body.startedAt) : action === 'end' ? stamp(body.endedAt) : c.at;
    if (kind === 'handoff') {
      const h = extra.handoff as { head?: string; summary?: string } | undefined;
      what = `handoff at ${h?.head?.slice(0, 10) ?? '(no head)'}${h?.summary ? `: ${h.summary.split('\n')[0]}` : ''}`;
      at = stamp((h as { at?: unknown } | undefined)?.at);
    }
    if (kind === 'checkpoint') {
      const list = Array.isArray(extra.checkpoints)
        ? (extra.checkpoints as { id?: string; message?: string; foldedAt?: string }[])
        : [];
      const last = list.at(-1);
      at = stamp(last?.foldedAt);
      what = `emergency checkpoint ${last?.id ?? ''} folded${last?.message ? `: ${last.message.split('\n')[0]}` : ''}`;
    }
    events.push({ at, kind, action, by: body.researcher, session: id, what, commit: c.commit });
  }
  return events;
}

async function gateEvents(repo: Repo): Promise<AuditEvent[]> {
  return (await gateEventCommits(repo)).map(({ event: e, commit }) => ({
    at: e.at,
    kind: 'gate',
    action: e.forced ? `${e.action} (forced)` : e.action,
    by: e.by,
    session: e.session,
    what: `${e.gate}${e.overrode.length ? ` overriding ${e.overrode.join(', ')}` : ''}${e.note ? `: ${e.note}` : ''}`,
    commit,
  }));
}

function leaseEvents(repo: Repo): AuditEvent[] {
  return forcedLeaseEvents(repo).map((e) => ({
    at: utc(e.at),
    kind: 'lease',
    action: 'forced',
    by: e.by,
    session: e.session,
    what:
      `${e.patterns.join(', ')}` +
      `${e.broke.length ? `, breaking ${e.broke.map((b) => `${b.pattern} of ${b.researcher}`).join(', ')}` : ''}` +
      `${e.reason !== null ? `: ${e.reason}` : ''}`,
    commit: e.commit,
  }));
}

/** Overrides are notes on the pushed commits: every note, local and fetched, read in bulk. */
function noteEvents(repo: Repo): AuditEvent[] {
  return overrideEvents(repo).map((e) => ({
    at: utc(e.at),
    kind: 'override',
    action:
      `push override by ${e.actor === 'agent' ? `an agent${e.agent ? ` (${e.agent})` : ''}` : 'a person'}${e.approvedBy ? `, approved by ${e.approvedBy}` : ''}` +
      // Only a push that landed is an override; the others are listed as what they were.
      (e.landed === true
        ? ''
        : e.landed === false
          ? ' (not landed: the remote refused the push)'
          : ' (not known yet whether it landed)'),
    actor: e.actor,
    landed: e.landed,
    by: e.by,
    session: e.session,
    what: `${e.ref ? `${e.ref}: ` : ''}${e.reason}`,
    commit: e.commit,
  }));
}
