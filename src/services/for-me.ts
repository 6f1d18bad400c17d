import type { GateEvent } from '../analysis/gates.js';
import type { Context } from '../context/context.js';
import { iso, now } from '../core/clock.js';
import { localStateFile, readJson, writeJson } from '../core/local-state.js';
import { matchesAny } from '../core/patterns.js';
import { defaultBranch } from '../git/changes.js';
import { authoredCommits } from '../git/history.js';
import { resolveRef } from '../git/refs.js';
import { forcedLeaseEvents, overrideEvents } from '../store/events.js';
import type { Session } from '../store/sessions.js';
import { gateEventLine, gatesView } from './gates.js';
import { handoffOf } from './handoff.js';
import { hostName } from './sessions.js';

/*
 * What changed for me since my last look (orient, sync and SessionStart tell it): pushes that
 * went over my session or lease, forced leases that took my patterns, sessions that ended or
 * were merged, gate changes by others, protocol changes, and handoffs whose next steps name me.
 * Each reader remembers, per researcher and per clone, what it last showed (the ids of what it
 * saw), and alerts are what is new against that: exact even when machines' clocks disagree or
 * changes arrive late through a sync. Kept in <git common dir>/consortium/last-look.json:
 * local to this clone, never shared.
 */
export interface Look {
  at: string;
  gates: string[];
  tip: string | null;
  /** Protocol files each session of another researcher had changed. */
  sessions: Record<string, string[]>;
  /** Each session's state. */
  states: Record<string, string>;
  /** Overrides, forced leases and handoffs already shown, by key. */
  seen: string[];
  /** Set for a look from before `seen` was kept: items older than this count as seen. */
  seenBefore?: string;
}

export interface Alert {
  kind: 'gate' | 'protocol' | 'override' | 'lease' | 'session' | 'handoff';
  message: string;
  at: string | null;
  by: string | null;
  gate?: string;
  action?: string;
  files?: string[];
  session?: string;
  commit?: string;
  reason?: string;
}

/** What a first look reaches back to, for the kinds that have no state to start from. */
const FIRST_LOOK_MS = 7 * 24 * 3600_000;

const lookFile = (ctx: Context) => localStateFile(ctx.repo.commonDir, 'last-look.json');

function readLooks(ctx: Context): Record<string, Partial<Look>> {
  const parsed = readJson<Record<string, Partial<Look>>>(lookFile(ctx));
  return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
}

export function lastLook(ctx: Context, researcher: string): Look | undefined {
  const look = readLooks(ctx)[researcher];
  if (!look || typeof look !== 'object' || !Array.isArray(look.gates)) return undefined;
  const record = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
  return {
    at: typeof look.at === 'string' ? look.at : '',
    gates: look.gates.filter((g) => typeof g === 'string'),
    tip: typeof look.tip === 'string' ? look.tip : null,
    sessions: record(look.sessions) as Look['sessions'],
    states: record(look.states) as Look['states'],
    seen: Array.isArray(look.seen) ? look.seen.filter((k) => typeof k === 'string') : [],
    // A look written before the seen list existed: what is older than it was already told.
    seenBefore: Array.isArray(look.seen) ? undefined : typeof look.at === 'string' ? look.at : '',
  };
}

/** Everything known here now, as a look would record it, and the alerts it could raise. */
interface Known {
  look: Omit<Look, 'at'>;
  gates: GateEvent[];
  items: { key: string; at: string; alert: Alert }[];
}

function knownNow(ctx: Context, researcher: string): Known {
  const tip = defaultBranch(ctx.repo, ctx.config).ref;
  const sha = (tip && resolveRef(ctx.repo, tip)) || null;
  const all = ctx.sessions().sessions;
  const sessions: Record<string, string[]> = {};
  if (ctx.config.protocol.length)
    for (const s of all) {
      if (s.researcher === researcher) continue;
      const files = [...new Set([...s.changedFiles, ...s.touchedFiles])].filter((f) =>
        matchesAny(f, ctx.config.protocol),
      );
      if (files.length) sessions[s.id] = files.sort();
    }
  const gates = gatesView(ctx).events;
  const items = [
    ...overridesOf(ctx, researcher, all),
    ...forcedOf(ctx, researcher),
    ...handoffsNaming(ctx, researcher, all),
  ];
  return {
    look: {
      gates: gates.map((e) => e.id),
      tip: sha,
      sessions,
      states: Object.fromEntries(all.map((s) => [s.id, s.state])),
      seen: items.map((i) => i.key),
    },
    gates,
    items,
  };
}

/** Forced leases that broke a lease of `me`. */
function forcedOf(ctx: Context, me: string) {
  return forcedLeaseEvents(ctx.repo)
    .filter((e) => e.by !== me && e.broke.some((b) => b.researcher === me))
    .map((e) => {
      const mine = e.broke.filter((b) => b.researcher === me);
      return {
        key: `lease:${e.commit}`,
        at: e.at,
        alert: {
          kind: 'lease' as const,
          message: `${e.by} broke your lease${mine.length === 1 ? '' : 's'} on ${mine.map((b) => b.pattern).join(', ')} (session ${ctx.shortId(mine[0]!.session)}), taking it by force${e.reason ? `: ${JSON.stringify(e.reason)}` : ''}.`,
          at: e.at,
          by: e.by,
          files: mine.map((b) => b.pattern),
          session: e.session ?? undefined,
          commit: e.commit,
          ...(e.reason ? { reason: e.reason } : {}),
        },
      };
    });
}

/** Pushes that went past the gate over work of `me`: a lease, a protocol file, a conflict. */
function overridesOf(ctx: Context, me: string, all: Session[]) {
  const mine = new Set(all.filter((s) => s.researcher === me).map((s) => s.id));
  return overrideEvents(ctx.repo)
    .filter((e) => e.by !== me && e.landed === true)
    .flatMap((e) => {
      const met = e.conflicts.filter(
        (c) => c.researchers.includes(me) || c.sessions.some((id) => mine.has(id)),
      );
      if (met.length === 0) return [];
      const files = [...new Set(met.flatMap((c) => c.paths))];
      const what = [
        ...new Set(
          met.map((c) => (c.kind === 'lease' ? 'your lease' : `a ${c.kind} conflict with your work`)),
        ),
      ];
      const branch = e.ref?.replace(/^refs\/heads\//, '');
      return [
        {
          key: `override:${e.commit}:${e.at}:${e.by}`,
          at: e.at,
          alert: {
            kind: 'override' as const,
            message:
              `${e.by} pushed ${branch ?? 'a branch'} over ${what.join(' and ')} on ${files.join(', ')}` +
              `${e.actor === 'agent' ? ' (an agent' + (e.approvedBy ? `, approved by ${e.approvedBy})` : ')') : ''}: ${JSON.stringify(e.reason)}.`,
            at: e.at,
            by: e.by,
            files,
            session: e.session ?? undefined,
            commit: e.commit,
            reason: e.reason,
          },
        },
      ];
    });
}

/** Other researchers' handoffs whose summary or next steps name `me`. */
function handoffsNaming(ctx: Context, me: string, all: Session[]) {
  const names = namesOf(ctx, me);
  // The id in any case; names as written (a first name such as Will or May is also a word).
  const naming = (text: string) =>
    names.some((n) => new RegExp(`(^|[^\\w-])${literally(n)}($|[^\\w-])`, n === me ? 'i' : '').test(text));
  return all.flatMap((s) => {
    if (s.researcher === me) return [];
    const h = handoffOf(s);
    if (!h) return [];
    const steps = (h.steps ?? []).filter(naming);
    if (steps.length === 0 && !naming(h.summary)) return [];
    return [
      {
        key: `handoff:${s.id}:${h.at}`,
        at: h.at,
        alert: {
          kind: 'handoff' as const,
          message: `${s.researcher}'s handoff (session ${s.id}) names you${steps.length ? `: ${steps.map((x) => JSON.stringify(x)).join('; ')}` : ' in its summary'}. git consortium handoff show -r ${s.researcher} has it all.`,
          at: h.at,
          by: s.researcher,
          session: s.id,
        },
      },
    ];
  });
}

/** How a handoff may name a researcher: the id, the name, the name without a title, the first name if no one else has it. */
function namesOf(ctx: Context, me: string): string[] {
  const name = ctx.researchers.get(me)?.name?.trim();
  const names = [me];
  if (name) {
    const plain = name.replace(/^(dr|prof|mr|mrs|ms)\.?\s+/i, '');
    names.push(name, plain);
    const first = plain.split(/\s+/)[0];
    const shared = [...ctx.researchers.entries()].some(
      ([id, r]) => id !== me && r.name?.replace(/^(dr|prof|mr|mrs|ms)\.?\s+/i, '').split(/\s+/)[0] === first,
    );
    if (first && first.length >= 3 && !shared) names.push(first);
  }
  return [...new Set(names)];
}

const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * What changed for `researcher` since their last look here. `mark` records the look, so that
 * the same news is told once (SessionStart reads without marking: orient still shows it).
 */
export function newsFor(ctx: Context, researcher: string, mark: boolean): Alert[] {
  const look = lastLook(ctx, researcher);
  const known = knownNow(ctx, researcher);
  const alerts: Alert[] = [];
  const seenGates = new Set(look?.gates ?? []);
  for (const e of known.gates) {
    if (seenGates.has(e.id) || e.by === researcher || !ctx.config.gates.has(e.gate)) continue;
    alerts.push({
      kind: 'gate',
      message: gateEventLine(e),
      at: e.at,
      by: e.by,
      gate: e.gate,
      action: e.action,
    });
  }
  const byId = new Map(ctx.sessions().sessions.map((s) => [s.id, s]));
  for (const [id, files] of Object.entries(known.look.sessions)) {
    const before = new Set(look?.sessions[id] ?? []);
    const fresh = files.filter((f) => !before.has(f));
    const s = byId.get(id);
    if (!fresh.length || !s) continue;
    // A first look reports only what is still in progress; ended work shows through the branch.
    if (!look && s.state !== 'active') continue;
    alerts.push({
      kind: 'protocol',
      message: `${s.researcher} (session ${id}, ${s.state}) changed protocol file${fresh.length === 1 ? '' : 's'} ${fresh.join(', ')}.`,
      at: s.heartbeatAt,
      by: s.researcher,
      files: fresh,
      session: id,
    });
  }
  if (look?.tip && known.look.tip && look.tip !== known.look.tip && ctx.config.protocol.length)
    alerts.push(...protocolCommits(ctx, look.tip, known.look.tip));
  if (look) alerts.push(...endings(researcher, look, byId));
  const seen = new Set(look?.seen ?? []);
  const since = iso(new Date(ctx.nowMs - FIRST_LOOK_MS));
  const told = (item: { key: string; at: string }) =>
    seen.has(item.key) ||
    (look ? look.seenBefore !== undefined && item.at < look.seenBefore : item.at < since);
  for (const item of known.items) if (!told(item)) alerts.push(item.alert);
  if (mark) markLooked(ctx, researcher, known.look);
  return alerts;
}

/** Sessions that ended or were merged since the last look: others', and mine ended elsewhere. */
function endings(me: string, look: Look, byId: Map<string, Session>): Alert[] {
  const alerts: Alert[] = [];
  const host = hostName();
  for (const s of byId.values()) {
    const before = look.states[s.id];
    if (before === s.state || s.state === 'active') continue;
    // Not known at the last look: news only if it ended after it (it started and ended since).
    if (before === undefined && !((s.endedAt ?? '') >= look.at)) continue;
    const recovered = s.extra?.recovered as { host?: unknown } | undefined;
    const elsewhere = !!recovered && recovered.host !== host;
    if (s.researcher === me && !elsewhere && s.state === 'ended') continue;
    const whose = s.researcher === me ? 'your session' : `${s.researcher}'s session`;
    alerts.push({
      kind: 'session',
      message:
        s.state === 'merged'
          ? `${whose} ${s.id}${s.branch ? ` (${s.branch})` : ''} was merged: its work is on the default branch.`
          : `${whose} ${s.id}${s.branch ? ` (${s.branch})` : ''} ended${elsewhere ? ` on ${String(recovered.host)} (recovered)` : ''}; its leases are released.`,
      at: s.endedAt ?? s.heartbeatAt,
      by: s.researcher,
      session: s.id,
    });
  }
  return alerts;
}

/** Commits that reached the default branch between two tips and changed protocol files, by others. */
function protocolCommits(ctx: Context, from: string, to: string): Alert[] {
  const mine = ctx.userEmail;
  const alerts: Alert[] = [];
  for (const { sha, name, email, at, subject, files: names } of authoredCommits(ctx.repo, from, to)) {
    if (!sha || email === mine) continue;
    const files = names.filter((f) => f && matchesAny(f, ctx.config.protocol));
    if (!files.length) continue;
    alerts.push({
      kind: 'protocol',
      message: `${name} changed protocol file${files.length === 1 ? '' : 's'} ${files.join(', ')} on the default branch (${sha.slice(0, 10)} ${subject}).`,
      at: at ?? null,
      by: name ?? null,
      files,
      commit: sha,
    });
  }
  return alerts;
}

/** Records that `researcher` has now seen everything known here. */
export function markLooked(ctx: Context, researcher: string, known = knownNow(ctx, researcher).look): void {
  const looks = readLooks(ctx);
  looks[researcher] = { at: iso(now()), ...known };
  // Not writable: alerts then repeat next time, better than failing the command that looked.
  writeJson(lookFile(ctx), looks);
}
