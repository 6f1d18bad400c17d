import type { ConflictKind } from '../core/config.js';
import { matchesAny } from '../core/patterns.js';
import { byHolder, leasesBlocking, leasesNamed } from './leases.js';

/**
 * Conflicts between live sessions. Pure: records and paths in, conflicts out, so it can be
 * tested exhaustively without git.
 */
export type Severity = 'high' | 'medium' | 'low';

export const SEVERITY: Record<ConflictKind, Severity> = {
  lease: 'high',
  protocol: 'high',
  merge: 'medium',
  worktree: 'medium',
  foreign: 'low',
};

export interface Conflict {
  kind: ConflictKind;
  severity: Severity;
  paths: string[];
  /** Session ids involved. */
  sessions: string[];
  /** Researcher ids involved. */
  researchers: string[];
  message: string;
  /** For `merge` from my side (the gate, check, the CI report): per path, the line ranges involved, as my tip numbers them. */
  lines?: Record<string, [number, number][]>;
}

/** What the analysis needs to know of a session. */
export interface LiveSession {
  id: string;
  researcher: string;
  branch: string | null;
  worktree: string;
  host: string;
  changedFiles: string[];
  touchedFiles: string[];
}

export const workOfSession = (s: LiveSession) => [...new Set([...s.changedFiles, ...s.touchedFiles])];

/** Two or more live sessions bound to one worktree (on one host). */
export function worktreeConflicts(live: LiveSession[]): Conflict[] {
  const byWorktree = new Map<string, LiveSession[]>();
  for (const s of live) {
    const key = `${s.host}\0${s.worktree}`;
    byWorktree.set(key, [...(byWorktree.get(key) ?? []), s]);
  }
  const conflicts: Conflict[] = [];
  for (const group of byWorktree.values()) {
    if (group.length < 2) continue;
    const sameBranch = new Set(group.map((s) => s.branch)).size === 1;
    conflicts.push({
      kind: 'worktree',
      severity: SEVERITY.worktree,
      paths: [group[0]!.worktree],
      sessions: group.map((s) => s.id),
      researchers: unique(group.map((s) => s.researcher)),
      message:
        `${group.length} live sessions share the worktree ${group[0]!.worktree}` +
        `${sameBranch ? ` on branch ${group[0]!.branch ?? '(detached)'}` : ''} (${group.map((s) => `${s.id} of ${s.researcher}`).join(', ')}): ` +
        'one can switch the branch or overwrite files under the other. Give each its own worktree (git consortium start --worktree) or end the extra sessions.',
    });
  }
  return conflicts;
}

/** Live sessions of different researchers that changed the same protocol file. */
export function protocolConflicts(live: LiveSession[], protocol: readonly string[]): Conflict[] {
  if (protocol.length === 0) return [];
  const touched = live.map((s) => ({ s, files: workOfSession(s).filter((f) => matchesAny(f, protocol)) }));
  const conflicts: Conflict[] = [];
  for (let i = 0; i < touched.length; i++) {
    for (let j = i + 1; j < touched.length; j++) {
      const a = touched[i]!;
      const b = touched[j]!;
      if (a.s.researcher === b.s.researcher) continue;
      const shared = a.files.filter((f) => b.files.includes(f));
      if (shared.length === 0) continue;
      conflicts.push({
        kind: 'protocol',
        severity: SEVERITY.protocol,
        paths: shared,
        sessions: [a.s.id, b.s.id],
        researchers: [a.s.researcher, b.s.researcher],
        message:
          `Protocol file${shared.length > 1 ? 's' : ''} ${shared.join(', ')} changed by both ${a.s.researcher} (session ${a.s.id}) and ` +
          `${b.s.researcher} (session ${b.s.id}). Agree on one change before either is merged: every researcher depends on these files.`,
      });
    }
  }
  return conflicts;
}

/** Work of a live session on files another session holds a lease on. */
export function leaseConflicts<
  L extends { pattern: string; session: string; researcher: string; expiresAt: string },
>(live: LiveSession[], leases: readonly L[]): Conflict[] {
  const conflicts: Conflict[] = [];
  for (const s of live) {
    const met = workOfSession(s).flatMap((file) =>
      leasesBlocking(leases, file, s.id).map((lease) => [lease, file] as const),
    );
    for (const [holder, held] of byHolder(met)) {
      const paths = [...held.paths].sort();
      const researcher = held.leases[0]!.researcher;
      conflicts.push({
        kind: 'lease',
        severity: SEVERITY.lease,
        paths,
        sessions: [s.id, holder],
        researchers: unique([s.researcher, researcher]),
        message:
          `${s.researcher} (session ${s.id}) changed ${paths.join(', ')}, leased by ${researcher} ` +
          `(session ${holder}, ${leasesNamed(held.leases)}). Its push will be refused: ` +
          'ask the holder to release the lease, or leave those files alone.',
      });
    }
  }
  return conflicts;
}

export const unique = <T>(items: T[]) => [...new Set(items)];

const ORDER: Record<Severity, number> = { high: 0, medium: 1, low: 2 };

export function sortConflicts(conflicts: Conflict[]): Conflict[] {
  return [...conflicts].sort(
    (a, b) =>
      ORDER[a.severity] - ORDER[b.severity] ||
      a.kind.localeCompare(b.kind) ||
      a.message.localeCompare(b.message),
  );
}
