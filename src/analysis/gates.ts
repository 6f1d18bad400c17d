import type { Gate } from '../core/config.js';

/**
 * The gate-and-key framework, pure: the configuration declares the gates, the recorded events
 * say what happened to them, and the state of every gate is the replay of all events.
 *
 * Merge rule, when machines change gates concurrently: every event of every writer is kept
 * (events are de-duplicated by id only), and they are replayed in the order of their time,
 * then of their id. So when two machines disagree about one gate, the later change wins, and
 * two changes made in the same millisecond are ordered by id: every machine computes the same
 * state from the same events, whatever order it received them in. A change is stamped no
 * earlier than the last change of its gate that its writer had seen (services/gates.ts), so a
 * machine whose clock lags never loses a change it made after seeing another.
 */
export type GateAction = 'unlock' | 'reopen';

export interface GateEvent {
  /** Unique and sortable: the time it was written, then random. */
  id: string;
  gate: string;
  action: GateAction;
  /** The researcher who made the change. */
  by: string;
  at: string;
  note: string | null;
  /** Made with --force: `overrode` says which rule it broke. */
  forced: boolean;
  overrode: string[];
  /** The session it was made in, when there was one. */
  session: string | null;
}

export interface GateHistoryEntry {
  action: GateAction;
  by: string;
  at: string;
  note: string | null;
  forced: boolean;
  id: string;
  overrode: string[];
  session: string | null;
  /** The record commit that holds the event, for a reviewer to verify with git. */
  commit?: string;
}

export interface GateStatus {
  id: string;
  title: string | null;
  owner: string | null;
  requires: string[];
  unlocks: string | null;
  description: string | null;
  status: 'locked' | 'unlocked';
  /** Every required gate is unlocked. */
  ready: boolean;
  /** The required gates that are still locked. */
  missing: string[];
  history: GateHistoryEntry[];
}

export const compareEvents = (a: GateEvent, b: GateEvent) =>
  a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/** All events, each once, in replay order. */
export function mergeEvents(lists: Iterable<GateEvent[]>): GateEvent[] {
  const byId = new Map<string, GateEvent>();
  for (const list of lists) for (const e of list) if (!byId.has(e.id)) byId.set(e.id, e);
  return [...byId.values()].sort(compareEvents);
}

/**
 * The state of every declared gate, in the configuration's order. Events about gates that are
 * no longer declared are ignored (they stay in the records' history).
 */
export function gateStates(
  gates: Map<string, Gate>,
  events: GateEvent[],
  commits: Map<string, string> = new Map(),
): GateStatus[] {
  const ordered = [...events].sort(compareEvents);
  const unlocked = new Set<string>();
  const history = new Map<string, GateHistoryEntry[]>();
  for (const e of ordered) {
    if (!gates.has(e.gate)) continue;
    if (e.action === 'unlock') unlocked.add(e.gate);
    else unlocked.delete(e.gate);
    const entry: GateHistoryEntry = {
      action: e.action,
      by: e.by,
      at: e.at,
      note: e.note,
      forced: e.forced,
      id: e.id,
      overrode: e.overrode,
      session: e.session,
    };
    const commit = commits.get(e.id);
    if (commit) entry.commit = commit;
    history.set(e.gate, [...(history.get(e.gate) ?? []), entry]);
  }
  return [...gates.values()].map((g) => {
    const missing = g.requires.filter((r) => !unlocked.has(r));
    return {
      id: g.id,
      title: g.title ?? null,
      owner: g.owner ?? null,
      requires: g.requires,
      unlocks: g.unlocks ?? null,
      description: g.description ?? null,
      status: unlocked.has(g.id) ? 'unlocked' : 'locked',
      ready: missing.length === 0,
      missing,
      history: history.get(g.id) ?? [],
    };
  });
}

/** Why `who` may not make `action` on `gate` now; empty when the change is allowed. */
export function refusals(gate: GateStatus, who: string, action: GateAction): string[] {
  const reasons: string[] = [];
  if (gate.owner && gate.owner !== who) reasons.push(`not-owner:${gate.owner}`);
  if (action === 'unlock' && gate.missing.length) reasons.push(`requires:${gate.missing.join(',')}`);
  return reasons;
}

/** The refusal reasons as a sentence for the person refused. */
export function describeRefusal(
  gate: GateStatus,
  who: string,
  action: GateAction,
  reasons: string[],
): string {
  const parts: string[] = [];
  for (const r of reasons) {
    if (r.startsWith('not-owner:'))
      parts.push(`${gate.id} belongs to ${gate.owner}: only ${gate.owner} may ${action} it (you are ${who})`);
    else if (r.startsWith('requires:')) {
      const missing = r.slice('requires:'.length).split(',');
      parts.push(
        `${gate.id} requires ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} still locked`,
      );
    }
  }
  return `${parts.join('; and ')}.`;
}

/** Gates that need `id` directly or through others (to warn when it is reopened). */
export function dependents(gates: Map<string, Gate>, id: string): string[] {
  const found = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const g of gates.values()) {
      if (found.has(g.id)) continue;
      if (g.requires.some((r) => r === id || found.has(r))) {
        found.add(g.id);
        grew = true;
      }
    }
  }
  return [...gates.keys()].filter((g) => found.has(g));
}

/** What a researcher sees of the gates: owned, waited on, and waiting on them. */
export interface GatesOf {
  owned: GateStatus[];
  /** Locked gates that my owned gates require, directly (owned by others). */
  waitingOn: GateStatus[];
  /** Locked gates of mine that other researchers' gates require. */
  waitingOnMe: GateStatus[];
}

export function gatesOf(states: GateStatus[], researcher: string): GatesOf {
  const byId = new Map(states.map((s) => [s.id, s]));
  const owned = states.filter((s) => s.owner === researcher);
  const waitingOn = new Set<string>();
  for (const g of owned) {
    for (const r of g.missing) if (byId.get(r)?.owner !== researcher) waitingOn.add(r);
  }
  const waitingOnMe = new Set<string>();
  for (const g of states) {
    if (g.owner === researcher) continue;
    for (const r of g.missing) if (byId.get(r)?.owner === researcher) waitingOnMe.add(r);
  }
  return {
    owned,
    waitingOn: states.filter((s) => waitingOn.has(s.id)),
    waitingOnMe: states.filter((s) => waitingOnMe.has(s.id)),
  };
}

/** Which locked gates of others need this one (for "waiting on me" lines). */
export function blockedBy(states: GateStatus[], id: string): string[] {
  return states.filter((s) => s.missing.includes(id)).map((s) => s.id);
}

/** A well-formed event read from a record (anything else is skipped). */
export function isGateEvent(value: unknown): value is GateEvent {
  if (!value || typeof value !== 'object') return false;
  const e = value as Record<string, unknown>;
  return (
    typeof e.id === 'string' &&
    typeof e.gate === 'string' &&
    (e.action === 'unlock' || e.action === 'reopen') &&
    typeof e.by === 'string' &&
    typeof e.at === 'string' &&
    !Number.isNaN(Date.parse(e.at)) &&
    (e.note === null || typeof e.note === 'string') &&
    typeof e.forced === 'boolean' &&
    Array.isArray(e.overrode) &&
    (e.session === null || typeof e.session === 'string')
  );
}
