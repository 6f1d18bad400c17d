import { localStateFile, readJson, stringList, writeJson } from '../core/local-state.js';
import { recordHistory } from '../git/history.js';
import { allNotes } from '../git/notes.js';
import { resolveRef } from '../git/refs.js';
import type { Repo } from '../git/repo.js';
import { parseNote } from './notes.js';
import { parseMessage } from './records.js';
import { LEASES_MIRROR, LEASES_REF, MIRROR, NOTES_MIRROR, NOTES_REF } from './refs.js';

/**
 * The events that stay in the records' history rather than in their current state: push
 * overrides (notes on the pushed commits) and forced leases (changes of the lease table). Read
 * in bulk, local and fetched copies together, each once; the audit trail and "what changed for
 * me" both read them here.
 */
export interface OverrideEvent {
  /** The pushed commit the note is on. */
  commit: string;
  at: string;
  by: string;
  actor: 'person' | 'agent';
  agent: string | null;
  approvedBy: string | null;
  session: string | null;
  ref: string | null;
  /** The remote ref the push went to (older notes: the local ref's name). */
  pushedTo: string | null;
  reason: string;
  /** Whether the push landed on the remote: null while that is not known (SPEC section 7). */
  landed: boolean | null;
  /** The blocking conflicts pushed over, with whose work each met. */
  conflicts: { kind: string; paths: string[]; researchers: string[]; sessions: string[] }[];
}

export interface ForcedLeaseEvent {
  /** The lease-table commit of the change. */
  commit: string;
  at: string;
  by: string;
  session: string | null;
  patterns: string[];
  reason: string | null;
  broke: { pattern: string; researcher: string; session: string }[];
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * What `read` finds in the history of `refs`, kept in a local file with the refs' tips, so
 * that while no tip moves (a sync with nothing new, every SessionStart) it costs no git
 * process: the tips come with the coordination refs a command reads anyway.
 */
function keptWhileTipsHold<T>(repo: Repo, name: string, refs: string[], read: () => T): T {
  const tips = refs.map((ref) => resolveRef(repo, ref) ?? '-').join(' ');
  const file = localStateFile(repo.commonDir, `${name}.json`);
  const kept = readJson<{ tips?: string; value?: T }>(file);
  if (kept?.tips === tips && kept.value !== undefined) return kept.value;
  const value = read();
  writeJson(file, { tips, value });
  return value;
}

export const overrideEvents = (repo: Repo): OverrideEvent[] =>
  keptWhileTipsHold(repo, 'override-events', [NOTES_REF, NOTES_MIRROR], () => readOverrideEvents(repo));

function readOverrideEvents(repo: Repo): OverrideEvent[] {
  const events: OverrideEvent[] = [];
  const seen = new Set<string>();
  // Whether an override landed is a later line on the same commit ("landed"), as notes only grow.
  const landings = new Map<string, boolean>();
  const notes = [NOTES_REF, NOTES_MIRROR].flatMap((ref) => allNotes(repo, ref));
  for (const { commit, text } of notes)
    for (const entry of parseNote(text))
      if (entry.type === 'landed' && typeof entry.landed === 'boolean')
        landings.set(`${commit}\0${entry.override}\0${entry.by}`, entry.landed);
  for (const { commit, text } of notes) {
    for (const entry of parseNote(text)) {
      if (entry.type !== 'override') continue;
      const key = `${commit}\0${JSON.stringify(entry)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const conflicts = Array.isArray(entry.conflicts) ? (entry.conflicts as Record<string, unknown>[]) : [];
      events.push({
        commit,
        at: entry.at,
        by: str(entry.by) ?? 'unknown',
        // Older notes carry no actor: they were all made through CONSORTIUM_OVERRIDE by hand.
        actor: entry.actor === 'agent' ? 'agent' : 'person',
        agent: str(entry.agent),
        approvedBy: str(entry.approvedBy),
        session: str(entry.session),
        ref: str(entry.ref),
        pushedTo: str(entry.pushedTo) ?? str(entry.ref),
        reason: str(entry.reason) ?? '',
        // Notes written before the flag existed are of pushes that went ahead: landed.
        landed:
          landings.get(`${commit}\0${entry.at}\0${entry.by}`) ??
          (entry.landed === null ? null : typeof entry.landed === 'boolean' ? entry.landed : true),
        conflicts: conflicts
          .filter((c) => c && typeof c === 'object')
          .map((c) => ({
            kind: str(c.kind) ?? 'conflict',
            paths: stringList(c.paths),
            researchers: stringList(c.researchers),
            sessions: stringList(c.sessions),
          })),
      });
    }
  }
  return events;
}

export const forcedLeaseEvents = (repo: Repo): ForcedLeaseEvent[] =>
  keptWhileTipsHold(repo, 'forced-lease-events', [LEASES_REF, LEASES_MIRROR], () =>
    readForcedLeaseEvents(repo),
  );

function readForcedLeaseEvents(repo: Repo): ForcedLeaseEvent[] {
  const events: ForcedLeaseEvent[] = [];
  // A glob without a wildcard means everything *below* it, so name the one lease ref as a glob.
  for (const { sha, at, message } of recordHistory(repo, ['refs/consortium/lease[s]', `${MIRROR}lease[s]`])) {
    const parsed = parseMessage('commit', message);
    if ('reason' in parsed) continue;
    const change = (parsed.body as { change?: Record<string, unknown> } | null)?.change;
    if (!change || typeof change !== 'object') continue;
    const broke = (Array.isArray(change.broke) ? (change.broke as Record<string, unknown>[]) : []).map(
      (b) => ({
        pattern: str(b?.pattern) ?? '',
        researcher: str(b?.researcher) ?? 'unknown',
        session: str(b?.session) ?? '',
      }),
    );
    if (change.action !== 'force' && broke.length === 0) continue;
    events.push({
      commit: sha,
      at: str(change.at) ?? at,
      by: str(change.researcher) ?? 'unknown',
      session: str(change.session),
      patterns: stringList(change.patterns),
      reason: str(change.reason),
      broke,
    });
  }
  return events;
}
