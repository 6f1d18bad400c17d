import type { Config, PolicyAction, Researcher } from '../core/config.js';
import { matchesAny } from '../core/patterns.js';
import { type Conflict, type LiveSession, SEVERITY, workOfSession } from './conflicts.js';
import { byHolder, leasesBlocking, leasesNamed } from './leases.js';

/**
 * What a push would collide with (SPEC section 7). Pure: the files the pushed commits change,
 * the other live sessions, the leases and the configuration in; conflicts out, each with the
 * action its kind's policy gives it. The `merge` kind needs git (merge-tree) and is added by
 * services/push-check.ts; every other kind is decided here.
 */
export type GateAction = Exclude<PolicyAction, 'off'>;

/** Who else a conflict is with: enough to name the session, its researcher and its branch. */
export interface Counterpart {
  session: string | null;
  researcher: string;
  branch: string | null;
  /** For a lease: when it ends. */
  leaseUntil?: string;
}

export interface PushConflict extends Conflict {
  action: GateAction;
  with: Counterpart[];
}

/** A lease as the gate needs it (services/view.ts LeaseView has at least these). */
export interface LeaseLike {
  pattern: string;
  session: string;
  researcher: string;
  expiresAt: string;
}

export interface PushInput {
  /** Files changed by the commits the remote does not have yet. */
  files: string[];
  /** The pushing session (undefined when the push is not a session's) and researcher. */
  me: { session?: string; researcher?: string };
  /** Live sessions other than mine, minus those whose work the pushed commits contain. */
  others: LiveSession[];
  leases: LeaseLike[];
  researchers: Map<string, Researcher>;
  /** The policy of the kinds decided here: the clients' own, or the server's (SPEC section 13). */
  config: Pick<Config, 'protocol'> & { policy: Record<'lease' | 'protocol' | 'foreign', PolicyAction> };
  nowMs: number;
}

export function pushConflicts(input: PushInput): PushConflict[] {
  const { policy } = input.config;
  const found: PushConflict[] = [];
  if (policy.lease !== 'off') found.push(...leaseConflicts(input, policy.lease));
  if (policy.protocol !== 'off') found.push(...protocolConflicts(input, policy.protocol));
  if (policy.foreign !== 'off') found.push(...foreignConflicts(input, policy.foreign));
  return found;
}

/**
 * Pushed files that match a lease held by another session (stale sessions' leases too): one
 * conflict per holding session, naming each of its leases the push meets.
 */
function leaseConflicts(input: PushInput, action: GateAction): PushConflict[] {
  const met = input.leases
    .filter((lease) => Date.parse(lease.expiresAt) > input.nowMs)
    .flatMap((lease) =>
      input.files
        .filter((f) => leasesBlocking([lease], f, input.me.session).length > 0)
        .map((f) => [lease, f] as const),
    );
  return [...byHolder(met)].map(([holder, held]) => {
    const paths = input.files.filter((f) => held.paths.has(f));
    const { researcher } = held.leases[0]!;
    const until = held.leases
      .map((l) => l.expiresAt)
      .sort()
      .at(-1)!;
    return {
      kind: 'lease',
      severity: SEVERITY.lease,
      action,
      paths,
      sessions: [holder],
      researchers: [researcher],
      with: [
        {
          session: holder,
          researcher,
          branch: input.others.find((s) => s.id === holder)?.branch ?? null,
          leaseUntil: until,
        },
      ],
      message: `${listed(paths)} ${paths.length > 1 ? 'are' : 'is'} leased by ${researcher} (session ${holder}, ${leasesNamed(held.leases)}).`,
    };
  });
}

/** Protocol files I push that a live session of another researcher has also changed. */
function protocolConflicts(input: PushInput, action: GateAction): PushConflict[] {
  const protocol = input.config.protocol;
  if (protocol.length === 0) return [];
  const mine = input.files.filter((f) => matchesAny(f, protocol));
  if (mine.length === 0) return [];
  const out: PushConflict[] = [];
  for (const other of input.others) {
    if (other.researcher === input.me.researcher) continue;
    const theirs = new Set(workOfSession(other));
    const paths = mine.filter((f) => theirs.has(f));
    if (paths.length === 0) continue;
    out.push({
      kind: 'protocol',
      severity: SEVERITY.protocol,
      action,
      paths,
      sessions: [other.id],
      researchers: [other.researcher],
      with: [{ session: other.id, researcher: other.researcher, branch: other.branch }],
      message:
        `Protocol file${paths.length > 1 ? 's' : ''} ${listed(paths)} ${paths.length > 1 ? 'are' : 'is'} also changed by ` +
        `${other.researcher} in live session ${other.id} on branch ${other.branch ?? '(detached)'}, not merged yet.`,
    });
  }
  return out;
}

/** Pushed files inside another researcher's workspace or owned paths. */
function foreignConflicts(input: PushInput, action: GateAction): PushConflict[] {
  const byOwner = new Map<string, string[]>();
  for (const file of input.files) {
    const owner = ownerOf(input.researchers, file);
    if (!owner || owner === input.me.researcher) continue;
    byOwner.set(owner, [...(byOwner.get(owner) ?? []), file]);
  }
  const out: PushConflict[] = [];
  for (const [owner, paths] of byOwner) {
    const theirs = input.others.filter((s) => s.researcher === owner);
    out.push({
      kind: 'foreign',
      severity: SEVERITY.foreign,
      action,
      paths,
      sessions: theirs.map((s) => s.id),
      researchers: [owner],
      with: theirs.length
        ? theirs.map((s) => ({ session: s.id, researcher: owner, branch: s.branch }))
        : [{ session: null, researcher: owner, branch: null }],
      message: `${listed(paths)} ${paths.length > 1 ? 'are' : 'is'} in ${owner}'s workspace or owned paths.`,
    });
  }
  return out;
}

/** The researcher whose workspace or `owns` patterns hold `file`. */
export function ownerOf(researchers: Map<string, Researcher>, file: string): string | undefined {
  for (const r of researchers.values()) {
    if (file === r.workspace || file.startsWith(`${r.workspace}/`)) return r.id;
  }
  for (const r of researchers.values()) if (matchesAny(file, r.owns)) return r.id;
  return undefined;
}

/** Whether the gate stops the push: any conflict whose policy is `block`. */
export const blocking = (conflicts: PushConflict[]) => conflicts.filter((c) => c.action === 'block');

/** Other live sessions whose changes could meet the pushed protocol files (to check containment). */
export function protocolCandidates<T extends LiveSession>(
  files: string[],
  others: T[],
  protocol: readonly string[],
): T[] {
  const pushed = new Set(files.filter((f) => matchesAny(f, protocol)));
  if (pushed.size === 0) return [];
  return others.filter((s) => workOfSession(s).some((f) => pushed.has(f)));
}

const listed = (paths: string[]) =>
  paths.length <= 4 ? paths.join(', ') : `${paths.slice(0, 4).join(', ')} and ${paths.length - 4} more`;
