import { type GateEvent, isGateEvent } from '../analysis/gates.js';
import { type LeaseRecord, liveLeases, patternsOverlap } from '../analysis/leases.js';
import { stateOf } from '../analysis/state.js';
import type { Pusher } from '../context/pusher.js';
import type { Config } from '../core/config.js';
import { newCommitTrees } from '../git/history.js';
import { changedNotes } from '../git/notes.js';
import { blobAt, commitMessage, objectInfo, readObjects, treeFiles } from '../git/objects.js';
import { isAncestor } from '../git/refs.js';
import type { Repo } from '../git/repo.js';
import {
  ARCHIVE_FORMAT,
  ARCHIVE_LIST,
  ARCHIVE_REF,
  LEASE_FORMAT,
  toArchive,
  toArchiveList,
  toTable,
} from '../store/formats.js';
import { GATES, GATES_FORMAT } from '../store/gates.js';
import { EMPTY_TREE, parseMessage } from '../store/records.js';
import { LEASES_REF, LOCAL, MIRROR, NOTES_REF, SESSIONS } from '../store/refs.js';
import { SESSION_FORMAT, type SessionRecord, sessionProblem } from '../store/sessions.js';

/**
 * The coordination refs kept whole on the server (SPEC section 13): each update of a ref under
 * refs/consortium/ (or of the notes) is checked against the server's own copy, which is the
 * authority. Records must read, histories must fast-forward (a repair may replace only what
 * does not read), the lease table must stay exclusive, a gate record holds only its writer's
 * events, a live session's ref is not deleted, the notes are never rewritten. Where the server
 * knows the pusher, live state is its owner's: sessions, new leases, gate changes and unlocks.
 */
export interface RefUpdate {
  old: string;
  new: string;
  ref: string;
}

/** A refusal names its rule, so that the pusher knows what to put right. */
export interface Refusal {
  ref: string;
  rule: string;
  message: string;
}

export interface ServerState {
  repo: Repo;
  config: Config;
  nowMs: number;
  pusher: Pusher;
  /** Every session record on the server now, by id (to tell live from ended). */
  sessions: Map<string, SessionRecord>;
  /** The server's default branch, where merged work is. */
  defaultBranch?: string;
}

const ZEROS = /^0+$/;
const isZero = (sha: string) => ZEROS.test(sha);
const RESERVED = 'refs/consortium-reserved/';
const LOCAL_ONLY = [MIRROR, 'refs/consortium-quarantine/', 'refs/consortium-landing/'];

/** Whether a ref is one the toolkit keeps (the server checks these; the gate checks the rest). */
export const isCoordinationRef = (ref: string) =>
  ref.startsWith(LOCAL) ||
  ref === NOTES_REF ||
  ref.startsWith(RESERVED) ||
  LOCAL_ONLY.some((prefix) => ref.startsWith(prefix));

/** `<old> <new> <ref>` lines as git writes them; anything else is not git's and is left out. */
export function parseUpdates(input: string): RefUpdate[] {
  const updates: RefUpdate[] = [];
  for (const line of input.split('\n')) {
    const m = /^([0-9a-f]{40}(?:[0-9a-f]{24})?) ([0-9a-f]{40}(?:[0-9a-f]{24})?) (refs\/\S+)$/.exec(
      line.trim(),
    );
    if (m) updates.push({ old: m[1]!, new: m[2]!, ref: m[3]! });
  }
  return updates;
}

export function checkCoordination(state: ServerState, updates: RefUpdate[]): Refusal[] {
  const smuggled = notRecords(state.repo, updates);
  if (smuggled) return [smuggled];
  const records = readRecords(state.repo, updates);
  const refusals: Refusal[] = [];
  for (const update of updates) {
    const found = checkOne(state, update, records);
    if (found) refusals.push({ ref: update.ref, ...found });
  }
  return refusals;
}

type Verdict = { rule: string; message: string } | undefined;

function checkOne(state: ServerState, u: RefUpdate, records: Map<string, Parsed>): Verdict {
  if (LOCAL_ONLY.some((prefix) => u.ref.startsWith(prefix)))
    return refuse('local namespace', `${u.ref} is a clone's own copy; it is never pushed.`);
  if (u.ref.startsWith(RESERVED)) return checkReservation(state, u, records);
  if (u.ref === NOTES_REF) return checkNotes(state, u);
  const old = isZero(u.old) ? undefined : records.get(u.old);
  const next = isZero(u.new) ? undefined : records.get(u.new);
  if (u.ref.startsWith(SESSIONS)) return checkSession(state, u, old, next);
  if (u.ref === LEASES_REF) return checkLeases(state, u, old, next);
  if (u.ref.startsWith(GATES)) return checkGates(state, u, old, next);
  if (u.ref === ARCHIVE_REF) return checkArchive(state, u, old, next);
  return refuse('unknown ref', `${u.ref} is not a coordination ref this server's git-consortium knows.`);
}

const refuse = (rule: string, message: string) => ({ rule, message });

/**
 * A time later than the server's clock allows (a heartbeat or a lease dated ahead would keep
 * a session live, or a lease held, for as long as it says): up to an hour of skew between
 * clocks is forgiven.
 */
const SKEW_MS = 60 * 60_000;
function fromTheFuture(state: ServerState, ref: string, at: string): Verdict {
  if (!(Date.parse(at) > state.nowMs + SKEW_MS)) return undefined;
  return refuse(
    'clock',
    `${ref} is dated ${at}, ahead of the server's clock (${new Date(state.nowMs).toISOString()}); check this machine's clock.`,
  );
}

/** A record's JSON with its keys in one order, to tell a changed one from the same one. */
const canonical = (value: object) => JSON.stringify(value, Object.keys(value).sort());

/**
 * A branch name's reservation (services/sessions.ts): created once, as a record naming that
 * branch (in the pusher's name where the server knows it), and removed only while no live
 * session works on the branch (the archive removes it with its session).
 */
function checkReservation(state: ServerState, u: RefUpdate, records: Map<string, Parsed>): Verdict {
  const branch = u.ref.slice(RESERVED.length);
  if (isZero(u.new)) {
    const live = [...state.sessions.values()].find((s) => s.state === 'active' && s.branch === branch);
    return live
      ? refuse(
          'reservation',
          `${u.ref} is the branch name of ${live.researcher}'s live session ${live.id}; it is removed with its session.`,
        )
      : undefined;
  }
  if (!isZero(u.old))
    return refuse(
      'reservation',
      `${u.ref} reserves a session branch name; it can be created or removed, not moved.`,
    );
  const body = bodyOf(records.get(u.new)) as { branch?: unknown; researcher?: unknown } | undefined;
  if (body?.branch !== branch)
    return refuse(
      'reservation',
      `${u.ref} must hold the record of its reservation, naming the branch ${branch}.`,
    );
  if (state.pusher.known && body.researcher !== state.pusher.researcher)
    return refuse(
      'not yours',
      `${u.ref} is reserved in ${String(body.researcher)}'s name, and this push is ${pushedBy(state.pusher)}'s.`,
    );
  return undefined;
}

/**
 * Coordination refs carry records and notes only: every commit a push brings under them must
 * be a record (on the empty tree, or the archive's list) or a notes commit (a tree of notes).
 * Anything else would sit on the server outside the gate, and a branch pushed later could
 * point at it as if it were already checked.
 */
function notRecords(repo: Repo, updates: RefUpdate[]): Refusal | undefined {
  const brought = (u: RefUpdate) =>
    !isZero(u.new) && (u.ref.startsWith(LOCAL) || u.ref.startsWith(RESERVED) || u.ref === NOTES_REF);
  const news = updates.filter(brought);
  if (news.length === 0) return undefined;
  const trees = newCommitTrees(
    repo,
    news.map((u) => u.new),
  );
  if (!trees)
    return {
      ref: news[0]!.ref,
      rule: 'not a record',
      message: `the server could not list the commits ${news[0]!.ref} would bring, so it cannot tell they are records.`,
    };
  const odd = [...new Set(trees.filter((t) => t.tree !== EMPTY_TREE).map((t) => t.tree))];
  for (const tree of odd) {
    const files = treeFiles(repo, tree) ?? [];
    const archiveList = files.length === 1 && files[0]!.path === ARCHIVE_LIST && files[0]!.type === 'blob';
    if (archiveList || (files.length > 0 && files.every(isNote))) continue;
    const commit = trees.find((t) => t.tree === tree)?.commit ?? '';
    const ref = news[0]!.ref;
    return {
      ref,
      rule: 'not a record',
      message: `${ref} would bring commit ${commit.slice(0, 12)}, which is neither a record nor notes (a tree of files); work goes on branches, where the gate checks it.`,
    };
  }
  return undefined;
}

/**
 * A file of a notes tree, at any depth: a blob whose path, its fan-out folders (two hex digits
 * each) joined, is the id of the object it annotates. Anything else (a folder of files whose
 * top names merely look like hex) is no note.
 */
function isNote(file: { path: string; mode: string; type: string }): boolean {
  if (file.type !== 'blob' || file.mode !== '100644') return false;
  const parts = file.path.split('/');
  if (!parts.slice(0, -1).every((p) => /^[0-9a-f]{2}$/.test(p))) return false;
  return /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(parts.join(''));
}

/** A record as read from its commit: its body, or why it does not read. */
type Parsed = { body: unknown } | { reason: string };

function readRecords(repo: Repo, updates: RefUpdate[]): Map<string, Parsed> {
  const ids = [
    ...new Set(
      updates
        .filter((u) => u.ref.startsWith(LOCAL) || u.ref.startsWith(RESERVED))
        .flatMap((u) => [u.old, u.new])
        .filter((sha) => !isZero(sha)),
    ),
  ];
  const objects = readObjects(repo, ids);
  const out = new Map<string, Parsed>();
  ids.forEach((id, i) => {
    const object = objects[i];
    const parsed = parseMessage(object?.type ?? '', commitMessage(object?.text ?? ''));
    out.set(id, 'reason' in parsed ? parsed : { body: parsed.body });
  });
  return out;
}

const bodyOf = (p: Parsed | undefined) => (p && 'body' in p ? p.body : undefined);

/** A record in a format newer than this server's toolkit reads: the server must be upgraded. */
function newer(body: unknown, format: number): Verdict {
  const f = (body as { format?: unknown } | undefined)?.format;
  if (typeof f === 'number' && f > format)
    return refuse(
      'newer format',
      `its record is in format ${f}, newer than this server's git-consortium reads (${format}); the server's toolkit must be upgraded first.`,
    );
  return undefined;
}

/**
 * A new version of a record must descend from the server's, unless the server's does not
 * read (a repair replaces it: services/repair.ts).
 */
function fastForward(state: ServerState, u: RefUpdate, oldReads: boolean): Verdict {
  if (isZero(u.old) || !oldReads || isAncestor(state.repo, u.old, u.new)) return undefined;
  return refuse(
    'not a fast-forward',
    `${u.ref} would be rewritten: its new history does not contain the server's; fetch, let git-consortium sync merge, and push again.`,
  );
}

function checkNotes(state: ServerState, u: RefUpdate): Verdict {
  if (isZero(u.new))
    return refuse('notes rewritten', `${NOTES_REF} holds everyone's notes; it is never deleted.`);
  // A notes ref is a commit (of notes), never a tag or a bare tree or blob.
  if (isZero(u.old) && objectInfo(state.repo, [u.new]).get(u.new)?.type !== 'commit')
    return refuse('not a record', `${NOTES_REF} would point at something that is not a commit of notes.`);
  if (!isZero(u.old) && !isAncestor(state.repo, u.old, u.new))
    return refuse(
      'notes rewritten',
      `${NOTES_REF} would lose notes: a push of the notes must contain the server's (git consortium sync merges them).`,
    );
  return isZero(u.old) ? undefined : notesKept(state, u);
}

/**
 * Notes only grow: every line of every note on the server is still there after the push (a
 * fast-forward could still drop them), and no pusher writes a line in the server's name.
 */
function notesKept(state: ServerState, u: RefUpdate): Verdict {
  const changed = changedNotes(state.repo, u.old, u.new);
  if (changed.length === 0) return undefined;
  const blobs = readObjects(
    state.repo,
    changed.flatMap((c) => [c.before, c.after].filter((b): b is string => !!b)),
  );
  const text = new Map<string, string>();
  let i = 0;
  for (const c of changed) for (const b of [c.before, c.after]) if (b) text.set(b, blobs[i++]?.text ?? '');
  for (const c of changed) {
    const after = new Set((c.after ? text.get(c.after)! : '').split('\n'));
    const before = c.before ? text.get(c.before)!.split('\n').filter(Boolean) : [];
    if (before.some((line) => !after.has(line)))
      return refuse(
        'notes rewritten',
        `${NOTES_REF} would lose lines of the note on ${c.commit}; notes are only ever added to.`,
      );
    const forged = [...after].find(
      (line) => !before.includes(line) && /"recordedBy"\s*:\s*"server"/.test(line),
    );
    if (forged)
      return refuse(
        'notes rewritten',
        `${NOTES_REF} would hold a line in the server's name on ${c.commit}; only the server writes those.`,
      );
  }
  return undefined;
}

function checkSession(
  state: ServerState,
  u: RefUpdate,
  old: Parsed | undefined,
  next: Parsed | undefined,
): Verdict {
  const id = u.ref.slice(SESSIONS.length);
  const before = bodyOf(old) as SessionRecord | undefined;
  const oldReads = !!before && !sessionProblem(before);
  if (!next) {
    // Deleting: an ended or merged session may be pruned or archived; a live one never. Where the
    // pusher is known, another researcher's only once past sessions.archiveAfter.
    if (oldReads && before.state === 'active')
      return refuse(
        'live session',
        `${u.ref} is the live session of ${before.researcher}; only an ended session's record may be deleted (git consortium end, or recover once it is stale).`,
      );
    const finished = oldReads ? Date.parse(before.endedAt ?? before.heartbeatAt) : Number.NaN;
    if (
      oldReads &&
      state.pusher.known &&
      state.pusher.researcher !== before.researcher &&
      !(state.nowMs - finished > state.config.sessions.archiveAfterMs)
    )
      return refuse(
        'not yours',
        `${u.ref} is ${before.researcher}'s session, finished less than sessions.archiveAfter ago; only its researcher deletes it before then.`,
      );
    return undefined;
  }
  const body = bodyOf(next);
  const tooNew = newer(body, SESSION_FORMAT);
  if (tooNew) return tooNew;
  const problem = 'reason' in next ? next.reason : sessionProblem(body);
  if (problem) return refuse('unreadable record', `${u.ref} would hold no session record: ${problem}.`);
  const record = body as SessionRecord;
  if (record.id !== id)
    return refuse('unreadable record', `${u.ref} would hold the record of another session (${record.id}).`);
  if (oldReads && (before.researcher !== record.researcher || before.id !== record.id))
    return refuse(
      'not yours',
      `${u.ref} belongs to ${before.researcher}; its record cannot be given to ${record.researcher}.`,
    );
  const ff = fastForward(state, u, oldReads);
  if (ff) return ff;
  const ahead = fromTheFuture(state, u.ref, record.heartbeatAt);
  if (ahead) return ahead;
  return sessionOwnership(state, u, oldReads ? before : undefined, record);
}

/**
 * Where the pusher is known, a live session is written only by its researcher. Others may
 * only close it: end one that went stale (recover) or mark one merged (its branch landed).
 */
function sessionOwnership(
  state: ServerState,
  u: RefUpdate,
  before: SessionRecord | undefined,
  record: SessionRecord,
): Verdict {
  const pusher = state.pusher;
  if (!pusher.known || pusher.researcher === record.researcher) return undefined;
  // Merged only when its work is in the default branch here; ended only once it went stale.
  const merged =
    record.state === 'merged' &&
    !!before?.head &&
    !!state.defaultBranch &&
    isAncestor(state.repo, before.head, `refs/heads/${state.defaultBranch}`);
  const closing =
    before !== undefined &&
    record.state !== 'active' &&
    (before.state !== 'active' ||
      merged ||
      (record.state === 'ended' &&
        stateOf(before, state.nowMs, state.config.sessions.staleAfterMs) === 'stale'));
  if (closing) return undefined;
  // A record that did not read may be repaired by anyone (recover), keeping its researcher.
  if (before === undefined && !isZero(u.old)) return undefined;
  return refuse(
    'not yours',
    `${u.ref} is ${record.researcher}'s session, and this push is ${pushedBy(pusher)}'s; only its researcher writes a live session.`,
  );
}

const pushedBy = (pusher: Pusher) => pusher.researcher ?? `an unknown pusher (${pusher.detail})`;

function checkLeases(
  state: ServerState,
  u: RefUpdate,
  old: Parsed | undefined,
  next: Parsed | undefined,
): Verdict {
  if (!next) return refuse('lease table', `${LEASES_REF} holds everyone's leases; it is never deleted.`);
  const tooNew = newer(bodyOf(next), LEASE_FORMAT);
  if (tooNew) return tooNew;
  const table = toTable(bodyOf(next));
  if (!table)
    return refuse('unreadable record', `${LEASES_REF} would hold no lease table this server reads.`);
  const before = toTable(bodyOf(old));
  const ff = fastForward(state, u, !!before);
  if (ff) return ff;
  if (before && table.seq <= before.seq)
    return refuse(
      'not a fast-forward',
      `${LEASES_REF} would go back to seq ${table.seq} from ${before.seq}.`,
    );
  const key = (l: LeaseRecord) => `${l.session}\0${l.pattern}`;
  const had = new Set((before?.leases ?? []).map(key));
  const added = table.leases.filter((l) => !had.has(key(l)));
  // A table that did not read is replaced by recover, keeping its leases: no one's new.
  if (state.pusher.known && before) {
    const taken = leasesTaken(state, before.leases, table.leases);
    if (taken) return taken;
    const foreign = added.find((l) => l.researcher !== state.pusher.researcher);
    if (foreign)
      return refuse(
        'not yours',
        `the lease of ${foreign.pattern} is taken in ${foreign.researcher}'s name, and this push is ${pushedBy(state.pusher)}'s.`,
      );
    const session = added.find((l) => {
      const holder = state.sessions.get(l.session);
      return holder && holder.researcher !== l.researcher;
    });
    if (session)
      return refuse('not yours', `the lease of ${session.pattern} names a session of another researcher.`);
  }
  // Every row the push brings or changes is dated by the pusher's clock (a lease taken again by
  // its own session changes its row, not its key).
  const unchanged = new Set((before?.leases ?? []).map((l) => canonical(l)));
  for (const lease of table.leases.filter((l) => !unchanged.has(canonical(l)))) {
    const ahead = fromTheFuture(state, LEASES_REF, lease.acquiredAt);
    if (ahead) return ahead;
  }
  const live = liveLeases(table.leases, state.sessions, state.nowMs);
  for (const lease of live.filter((l) => added.some((a) => key(a) === key(l)))) {
    const clash = live.find((o) => o.session !== lease.session && patternsOverlap(o.pattern, lease.pattern));
    if (clash)
      return refuse(
        'lease exclusive',
        `the lease table would hold ${lease.pattern} (session ${lease.session}) beside ${clash.pattern}, leased by ${clash.researcher} (session ${clash.session}).`,
      );
  }
  return undefined;
}

/**
 * Another researcher's live lease leaves the table, or changes, only when the same change
 * breaks it by force (lease acquire --force: an overlapping lease of the pusher's, forced) or
 * when it no longer counts (expired, or its session ended).
 */
function leasesTaken(state: ServerState, before: LeaseRecord[], after: LeaseRecord[]): Verdict {
  const same = (a: LeaseRecord, b: LeaseRecord) => canonical(a) === canonical(b);
  const live = new Set(
    liveLeases(before, state.sessions, state.nowMs).map((l) => `${l.session}\0${l.pattern}`),
  );
  for (const lease of before) {
    if (lease.researcher === state.pusher.researcher || !live.has(`${lease.session}\0${lease.pattern}`))
      continue;
    if (after.some((l) => same(l, lease))) continue;
    const broken = after.some(
      (l) =>
        l.forced &&
        l.researcher === state.pusher.researcher &&
        patternsOverlap(l.pattern, lease.pattern) &&
        !before.some((b) => same(b, l)),
    );
    if (!broken)
      return refuse(
        'not yours',
        `the live lease of ${lease.pattern} is ${lease.researcher}'s (session ${lease.session}); only its holder releases it, or a forced lease breaks it.`,
      );
  }
  return undefined;
}

function checkGates(
  state: ServerState,
  u: RefUpdate,
  old: Parsed | undefined,
  next: Parsed | undefined,
): Verdict {
  const writer = u.ref.slice(GATES.length);
  if (!next) return refuse('gate record', `${u.ref} holds gate changes; it is never deleted.`);
  const body = bodyOf(next) as { kind?: unknown; writer?: unknown; events?: unknown } | undefined;
  const tooNew = newer(body, GATES_FORMAT);
  if (tooNew) return tooNew;
  if (body?.kind !== 'gates' || !Array.isArray(body.events) || !body.events.every(isGateEvent))
    return refuse('unreadable record', `${u.ref} would hold no gate record this server reads.`);
  if (body.writer !== writer)
    return refuse(
      'gate writer',
      `${u.ref} would hold the events of writer ${JSON.stringify(body.writer)}: a gate event goes in its writer's own ref.`,
    );
  const events = body.events as GateEvent[];
  const beforeBody = bodyOf(old) as { events?: unknown } | undefined;
  const beforeEvents = Array.isArray(beforeBody?.events)
    ? (beforeBody.events as GateEvent[]).filter(isGateEvent)
    : undefined;
  const ff = fastForward(state, u, !!beforeEvents);
  if (ff) return ff;
  const byId = new Map(events.map((e) => [e.id, canonical(e)]));
  const lost = beforeEvents?.find((e) => byId.get(e.id) !== canonical(e));
  if (lost)
    return refuse(
      'not a fast-forward',
      `${u.ref} would lose or change the gate event ${lost.id}; events are only ever added.`,
    );
  // A record that did not read is repaired by recover with the events it held: none is new.
  if (!beforeEvents && !isZero(u.old)) return undefined;
  const had = new Set((beforeEvents ?? []).map((e) => e.id));
  for (const event of events.filter((e) => !had.has(e.id))) {
    const verdict = gateChange(state, u, event);
    if (verdict) return verdict;
  }
  return undefined;
}

/** A new gate change: its author is the pusher, and only the gate's owner changes it unforced. */
function gateChange(state: ServerState, u: RefUpdate, event: GateEvent): Verdict {
  const pusher = state.pusher;
  if (!pusher.known) return undefined;
  if (event.by !== pusher.researcher)
    return refuse(
      'not yours',
      `${u.ref} would record a change of gate ${event.gate} by ${event.by}, and this push is ${pushedBy(pusher)}'s.`,
    );
  const owner = state.config.gates.get(event.gate)?.owner;
  if (!owner || owner === pusher.researcher) return undefined;
  if (event.forced && state.config.server.forceUnlock === 'allow') return undefined;
  return refuse(
    'gate owner',
    `gate ${event.gate} is ${owner}'s to ${event.action}; ${pusher.researcher} may not` +
      (event.forced ? ', and --force does not count on this server.' : '.'),
  );
}

function checkArchive(
  state: ServerState,
  u: RefUpdate,
  old: Parsed | undefined,
  next: Parsed | undefined,
): Verdict {
  if (!next)
    return refuse('archive', `${ARCHIVE_REF} holds the finished sessions' history; it is never deleted.`);
  const tooNew = newer(bodyOf(next), ARCHIVE_FORMAT);
  if (tooNew) return tooNew;
  if (!toArchive(bodyOf(next)))
    return refuse('unreadable record', `${ARCHIVE_REF} would hold no archive this server reads.`);
  if (!old || !toArchive(bodyOf(old))) return undefined;
  const before = archived(state.repo, u.old);
  const after = archived(state.repo, u.new);
  // The chain grows by archiving: every session archived before stays listed.
  if (isAncestor(state.repo, u.old, u.new)) {
    if (!before || (after && [...before].every((id) => after.has(id)))) return undefined;
    return refuse(
      'archive',
      `${ARCHIVE_REF} would drop archived sessions from its list; only recover --prune starts a shorter one.`,
    );
  }
  // A new chain is a prune (recover --prune): it may only leave sessions out, never add any.
  if (before && after && [...after].every((id) => before.has(id))) return undefined;
  return refuse(
    'not a fast-forward',
    `${ARCHIVE_REF} would be rewritten; a new archive chain may only leave sessions out (recover --prune).`,
  );
}

function archived(repo: Repo, commit: string): Set<string> | undefined {
  const list = toArchiveList(blobAt(repo, commit, ARCHIVE_LIST));
  return list && new Set(list.map((s) => s.id));
}
