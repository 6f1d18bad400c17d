import { now } from '../core/clock.js';
import { refusal } from '../core/errors.js';
import { isSessionId } from '../core/ids.js';
import type { Repo } from '../git/repo.js';
import {
  type Author,
  backoff,
  compareAndSwap,
  readRecords,
  type StoredRecord,
  writeRecordCommit,
  ZERO,
} from './records.js';
import { MIRRORED_SESSIONS, SESSIONS, sessionRef } from './refs.js';

/**
 * The session registry (SPEC section 5): one ref per session, one writer per ref, every
 * change a new commit on top of the last, written by compare-and-swap.
 */
export const SESSION_FORMAT = 1;

export type Agent = { kind: 'claude-code'; sessionId: string } | { kind: 'human' };

/**
 * A Claude Code conversation working inside a session that a person started: recorded beside
 * the person's own agent marker, never in place of it, so that the conversation's end leaves
 * the person's session (and its leases) as they left it.
 */
export interface Conversation {
  kind: 'claude-code';
  sessionId: string;
  since: string;
}
export type StoredState = 'active' | 'ended' | 'merged';

export interface SessionRecord {
  format: number;
  /** Grows by one with every write: the newest of two copies is the one with the larger seq. */
  seq: number;
  id: string;
  researcher: string;
  branch: string | null;
  worktree: string;
  host: string;
  user: string;
  email: string | null;
  agent: Agent;
  /** The conversation working in a person's session now, if any (absent in older records). */
  conversation?: Conversation | null;
  intent: string;
  shared: boolean;
  startedAt: string;
  startCommit: string | null;
  heartbeatAt: string;
  endedAt: string | null;
  state: StoredState;
  head: string | null;
  /** Files the branch changes against its merge base with the default branch. */
  changedFiles: string[];
  /** Files the agent reported touching (Claude Code's PostToolUse). */
  touchedFiles: string[];
  /** Free-form additions of later releases and features (handoffs, checkpoints) live here. */
  extra?: Record<string, unknown>;
}

export interface Session extends SessionRecord {
  /** The commit holding this version of the record. */
  commit: string;
  /** Where the newest copy was found: written here, or fetched from the remote. */
  source: 'local' | 'remote';
}

export interface SessionList {
  sessions: Session[];
  /** Records that could not be read: reported, never allowed to hide the others. */
  problems: string[];
}

/**
 * Whether this version can read a session record: its shape, a format no newer than
 * SESSION_FORMAT (a newer release's record would be misread, and rewritten in the old format),
 * and a seq that still counts: one past 2^53 (a hand-edited 1e308) stays where it is, and the
 * newest copy could no longer be told.
 */
export function validSession(body: unknown): body is SessionRecord {
  return sessionProblem(body) === undefined;
}

/** Why a record body is not a session record this version can read; undefined when it is. */
export function sessionProblem(body: unknown): string | undefined {
  if (!shapedLikeSession(body)) return 'it is not a session record this version can read';
  const { format, seq } = body as SessionRecord;
  if (!Number.isSafeInteger(format) || format < 1) return 'its format is not a version number';
  if (format > SESSION_FORMAT)
    return `it is in format ${format}, newer than this version of git-consortium reads (${SESSION_FORMAT}); upgrade to read it`;
  if (!Number.isSafeInteger(seq) || seq < 0) return 'its seq is not a whole number this version can count on';
  return undefined;
}

function shapedLikeSession(body: unknown): boolean {
  if (!body || typeof body !== 'object') return false;
  const r = body as Record<string, unknown>;
  const str = (k: string) => typeof r[k] === 'string';
  const strOrNull = (k: string) => r[k] === null || typeof r[k] === 'string';
  const list = (k: string) => Array.isArray(r[k]) && (r[k] as unknown[]).every((x) => typeof x === 'string');
  return (
    typeof r.format === 'number' &&
    typeof r.seq === 'number' &&
    str('id') &&
    isSessionId(r.id as string) &&
    str('researcher') &&
    strOrNull('branch') &&
    str('worktree') &&
    str('startedAt') &&
    str('heartbeatAt') &&
    strOrNull('endedAt') &&
    (r.state === 'active' || r.state === 'ended' || r.state === 'merged') &&
    list('changedFiles') &&
    list('touchedFiles') &&
    !!r.agent &&
    typeof r.agent === 'object'
  );
}

/** Every session, local and fetched, newest copy of each, in one git process. */
export function listSessions(repo: Repo, ids?: string[]): SessionList {
  const prefixes = ids
    ? ids.flatMap((id) => [sessionRef(id), MIRRORED_SESSIONS + id])
    : [SESSIONS, MIRRORED_SESSIONS];
  const { records, bad } = readRecords(repo, prefixes);
  const problems = bad.map((b) => `Skipped the session record ${b.ref}: ${b.reason}.`);
  const newest = new Map<string, Session>();
  const byCommit = new Map<string, Session | undefined>();
  for (const stored of records) {
    // The fetched copy of a record holds the same commit: read once, told apart by its source.
    const read = byCommit.get(stored.commit);
    const session =
      read && refOf(stored).id === read.id ? { ...read, source: refOf(stored).source } : toSession(stored);
    if (!read) byCommit.set(stored.commit, session);
    if (!session) {
      problems.push(`Skipped the session record ${stored.ref}: ${recordProblem(stored)}.`);
      continue;
    }
    const known = newest.get(session.id);
    if (!known || session.seq > known.seq || (session.seq === known.seq && session.source === 'local')) {
      newest.set(session.id, session);
    }
  }
  const sessions = [...newest.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  return { sessions, problems };
}

/** Why a stored record is not a session this version reads (its body, or its ref's name). */
export function recordProblem(stored: StoredRecord): string {
  return sessionProblem(stored.body) ?? 'its ref does not name the session it holds';
}

/** Which session a record's ref names, and whether it is this clone's or the fetched copy. */
function refOf(stored: StoredRecord): { id: string; source: Session['source'] } {
  const source = stored.ref.startsWith(SESSIONS) ? 'local' : 'remote';
  return { id: stored.ref.slice((source === 'local' ? SESSIONS : MIRRORED_SESSIONS).length), source };
}

function toSession(stored: StoredRecord): Session | undefined {
  if (!validSession(stored.body)) return undefined;
  const { id, source } = refOf(stored);
  if (id !== stored.body.id) return undefined;
  return { ...stored.body, commit: stored.commit, source };
}

function stripView(session: Session): SessionRecord {
  const { commit: _c, source: _s, ...record } = session;
  return record;
}

export function createSession(
  repo: Repo,
  record: Omit<SessionRecord, 'format' | 'seq'>,
  author: Author,
): Session {
  const full: SessionRecord = { format: SESSION_FORMAT, seq: 1, ...record };
  const commit = writeRecordCommit(
    repo,
    `session ${record.id}: start (${record.researcher})`,
    full,
    [],
    author,
  );
  if (!compareAndSwap(repo, sessionRef(record.id), commit, ZERO)) {
    throw refusal(`A session with id ${record.id} already exists; run the command again.`);
  }
  return { ...full, commit, source: 'local' };
}

/**
 * Applies `change` to the newest copy of a session and writes the result here, retrying when
 * another process wrote in between, so no update is ever lost. `change` returns undefined when
 * there is nothing to write. When the local and fetched copies have diverged (another machine
 * changed it, as `recover` may), the new commit has both as parents.
 */
export function updateSession(
  repo: Repo,
  id: string,
  action: string,
  change: (record: SessionRecord) => SessionRecord | undefined,
  author: Author,
): Session | undefined {
  for (let attempt = 0; attempt < 12; attempt++) {
    const { records } = readRecords(repo, [sessionRef(id), MIRRORED_SESSIONS + id]);
    const copies = records.map(toSession).filter((s): s is Session => !!s);
    const local = copies.find((s) => s.source === 'local');
    const remote = copies.find((s) => s.source === 'remote');
    const base = !local || (remote && remote.seq > local.seq) ? remote : local;
    if (!base) throw refusal(`There is no session ${id}.`);
    const next = change(structuredClone(stripView(base)));
    if (!next) return base;
    next.seq = Math.max(local?.seq ?? 0, remote?.seq ?? 0) + 1;
    next.format = SESSION_FORMAT;
    const parents = [base.commit];
    const other = base === local ? remote : local;
    if (other && other.commit !== base.commit) parents.push(other.commit);
    const commit = writeRecordCommit(repo, `session ${id}: ${action}`, next, parents, author);
    if (compareAndSwap(repo, sessionRef(id), commit, local?.commit ?? ZERO))
      return { ...next, commit, source: 'local' };
    backoff(attempt);
  }
  throw refusal(
    `Session ${id} is being changed by other processes right now; try again in a moment. ` +
      'If this persists, a killed process may have left a lock file behind: git consortium recover removes it.',
  );
}

/** Whether a Claude Code conversation works in this session: as its own, or inside a person's. */
export function conversationWorksIn(session: SessionRecord, conversation: string): boolean {
  return (
    (session.agent.kind === 'claude-code' && session.agent.sessionId === conversation) ||
    session.conversation?.sessionId === conversation
  );
}

/** The time now, as records store it. */
export const stamp = () => now().toISOString();
