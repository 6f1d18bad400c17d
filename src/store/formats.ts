import type { LeaseRecord } from '../analysis/leases.js';
import type { RefContent } from '../git/refs.js';
import { eventsOf, GATES } from './gates.js';
import { parseMessage } from './records.js';
import { LEASES_REF, LOCAL, NOTES_REF, SESSIONS } from './refs.js';
import { sessionProblem } from './sessions.js';

/**
 * Which record bodies this version reads, kind by kind, in a module of its own so that the
 * sharing code (store/remote.ts) can ask before it pushes: nothing this version cannot read is
 * ever shared, since a copy pushed is a copy every other machine then trips over.
 */
export const LEASE_FORMAT = 1;
export const ARCHIVE_FORMAT = 1;
export const ARCHIVE_REF = `${LOCAL}archive`;

/** What one change to the table did: the audit trail reads these from the ref's history. */
export interface LeaseChange {
  action: 'acquire' | 'release' | 'force';
  at: string;
  researcher: string;
  session: string;
  patterns: string[];
  reason: string | null;
  /** Leases of other sessions broken by --force. */
  broke: LeaseRecord[];
}

export interface LeaseTable {
  format: number;
  seq: number;
  leases: LeaseRecord[];
  change: LeaseChange | null;
}

export function validLease(value: unknown): value is LeaseRecord {
  if (!value || typeof value !== 'object') return false;
  const l = value as Record<string, unknown>;
  return (
    typeof l.pattern === 'string' &&
    typeof l.session === 'string' &&
    typeof l.researcher === 'string' &&
    typeof l.acquiredAt === 'string' &&
    typeof l.ttlMs === 'number' &&
    typeof l.forced === 'boolean' &&
    (l.reason === null || typeof l.reason === 'string')
  );
}

/**
 * A lease table this version reads, or undefined. A seq that is not a safe integer (a
 * hand-edited 1e308) is unreadable: one more than it is itself, so the table could never
 * advance, and 1e309 reads as Infinity, which JSON writes back as null.
 */
export function toTable(body: unknown): LeaseTable | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const t = body as Record<string, unknown>;
  if (typeof t.format !== 'number' || !Array.isArray(t.leases)) return undefined;
  if (!Number.isSafeInteger(t.format) || t.format < 1 || t.format > LEASE_FORMAT) return undefined;
  if (!Number.isSafeInteger(t.seq) || (t.seq as number) < 0) return undefined;
  return {
    format: t.format,
    seq: t.seq as number,
    leases: t.leases.filter(validLease),
    change: (t.change as LeaseChange | null) ?? null,
  };
}

/** One archived session: enough to list it without its ref (SPEC section 5). */
export interface ArchivedSession {
  id: string;
  researcher: string;
  branch: string | null;
  state: 'ended' | 'merged';
  startedAt: string;
  endedAt: string | null;
  heartbeatAt: string;
  intent: string;
  host: string;
  /** The session's last record commit, a parent of an archive commit: its whole history. */
  commit: string;
}

/**
 * The archive's record. Its commit's tree holds the list of every archived session (ARCHIVE_LIST,
 * JSON), not its message: every push parses the commits the remote advertises, and a message of
 * megabytes would cost each push more than the refs it replaced. Its parents are the previous
 * archive commit and bundles of the archived sessions' last records, so git keeps their history.
 */
export interface ArchiveRecord {
  format: number;
  kind: 'archive';
  seq: number;
  /** How many sessions the list holds. */
  count: number;
}

export const ARCHIVE_LIST = 'sessions.json';

const str = (v: unknown) => typeof v === 'string';
const strOrNull = (v: unknown) => v === null || typeof v === 'string';

function validEntry(value: unknown): value is ArchivedSession {
  if (!value || typeof value !== 'object') return false;
  const e = value as Record<string, unknown>;
  return (
    str(e.id) &&
    str(e.researcher) &&
    strOrNull(e.branch) &&
    (e.state === 'ended' || e.state === 'merged') &&
    str(e.startedAt) &&
    strOrNull(e.endedAt) &&
    str(e.heartbeatAt) &&
    str(e.commit) &&
    /^[0-9a-f]{40,64}$/.test(e.commit as string)
  );
}

export function toArchive(body: unknown): ArchiveRecord | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const a = body as Record<string, unknown>;
  if (a.kind !== 'archive') return undefined;
  if (!Number.isSafeInteger(a.format) || (a.format as number) < 1 || (a.format as number) > ARCHIVE_FORMAT)
    return undefined;
  if (!Number.isSafeInteger(a.seq) || (a.seq as number) < 0) return undefined;
  if (!Number.isSafeInteger(a.count) || (a.count as number) < 0) return undefined;
  return { format: a.format as number, kind: 'archive', seq: a.seq as number, count: a.count as number };
}

/** The archived sessions of a list read from an archive's tree (entries that do not read are left out). */
export function toArchiveList(text: string | undefined): ArchivedSession[] | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  return value
    .filter(validEntry)
    .map((e) => ({ ...e, intent: str(e.intent) ? e.intent : '', host: str(e.host) ? e.host : '' }));
}

/**
 * Why a coordination ref must not be shared as it is, or undefined when it may: it holds no
 * record, or one of its kind this version cannot read. The notes ref is git's own format.
 */
export function unshareable(content: RefContent): string | undefined {
  if (content.ref === NOTES_REF || content.ref.startsWith('refs/notes/')) return undefined;
  const parsed = parseMessage(content.type, content.message);
  if ('reason' in parsed) return parsed.reason;
  if (content.ref.startsWith(SESSIONS)) {
    const problem = sessionProblem(parsed.body);
    if (problem) return problem;
    const id = (parsed.body as { id: string }).id;
    return id === content.ref.slice(SESSIONS.length)
      ? undefined
      : 'its ref does not name the session it holds';
  }
  if (content.ref === LEASES_REF)
    return toTable(parsed.body) ? undefined : 'it is not a lease table this version can read';
  if (content.ref === ARCHIVE_REF)
    return toArchive(parsed.body) ? undefined : 'it is not an archive this version can read';
  if (content.ref.startsWith(GATES))
    return eventsOf(parsed.body) ? undefined : 'it is not a gate record this version can read';
  return undefined;
}
