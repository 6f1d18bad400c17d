import type { Session } from '../store/sessions.js';
import type { GateEvent } from './gates.js';

/**
 * "What changed for me" since the last sync (SPEC section 6): from the sessions and gate events
 * known before and after, the sessions other machines started, ended or merged, and the gate
 * changes that are new here. Pure: sync reads the states, this only compares them.
 */
export interface SessionBrief {
  id: string;
  researcher: string;
  branch: string | null;
  host: string;
  intent: string;
  state: string;
}

export type GateNews = Pick<GateEvent, 'gate' | 'action' | 'by' | 'at' | 'forced' | 'note'>;

export interface News {
  sessions: { started: SessionBrief[]; ended: SessionBrief[]; merged: SessionBrief[] };
  gates: GateNews[];
}

export interface Known {
  /** Session id to its state, as known before. */
  sessions: ReadonlyMap<string, string>;
  gates: ReadonlySet<string>;
}

const brief = (s: Session): SessionBrief => ({
  id: s.id,
  researcher: s.researcher,
  branch: s.branch,
  host: s.host,
  intent: s.intent,
  state: s.state,
});

/** `host` is this machine: its own sessions are no news to it, unless another machine ended them. */
export function whatChanged(before: Known, after: Session[], gateEvents: GateEvent[], host: string): News {
  const endedElsewhere = (s: Session) => {
    const recovered = s.extra?.recovered as { host?: unknown } | undefined;
    return s.state === 'ended' && !!recovered && recovered.host !== host;
  };
  const news = after.filter((s) => s.host !== host || endedElsewhere(s));
  const was = (s: Session) => before.sessions.get(s.id);
  return {
    sessions: {
      started: news.filter((s) => was(s) === undefined && s.state === 'active').map(brief),
      ended: news.filter((s) => (was(s) ?? 'active') === 'active' && s.state === 'ended').map(brief),
      merged: after.filter((s) => s.state === 'merged' && was(s) !== 'merged').map(brief),
    },
    gates: gateEvents
      .filter((e) => !before.gates.has(e.id))
      .map(({ gate, action, by, at, forced, note }) => ({ gate, action, by, at, forced, note })),
  };
}
