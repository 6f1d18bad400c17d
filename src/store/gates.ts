import { hostname } from 'node:os';
import { type GateEvent, isGateEvent, mergeEvents } from '../analysis/gates.js';
import { refusal } from '../core/errors.js';
import { randomHex } from '../core/ids.js';
import { setLocalConfig } from '../git/config.js';
import { recordHistory } from '../git/history.js';
import { refContents } from '../git/refs.js';
import { gitConfigValue, type Repo } from '../git/repo.js';
import {
  type Author,
  backoff,
  compareAndSwap,
  deleteRef,
  parseMessage,
  readRecords,
  writeRecordCommit,
  ZERO,
} from './records.js';
import { LOCAL, MIRROR, mirrorOf } from './refs.js';

/**
 * Gate changes in git. Every clone writes its own ref, refs/consortium/gates/<writer>, so no
 * single ref is written by every machine (the hot spot of a shared ref): each ref is a chain
 * of record commits, and its tip holds the whole event list of that writer, so that one
 * `for-each-ref` reads every gate change of every machine. The state of the gates is the
 * replay of all of them (analysis/gates.ts).
 */
export const GATES_FORMAT = 1;
export const GATES = `${LOCAL}gates/`;
export const MIRRORED_GATES = `${MIRROR}gates/`;
export const gatesRef = (writer: string) => `${GATES}${writer}`;

export interface GatesRecord {
  format: number;
  kind: 'gates';
  writer: string;
  /** The event this commit added (the audit trail names its commit). */
  latest: string;
  events: GateEvent[];
}

const WRITER = /^[a-z0-9][a-z0-9-]{0,60}$/;

/**
 * This clone's writer id (git config consortium.writer), made on first use from the host
 * name and a random tail, so that two clones on one host still write different refs.
 */
export function writerId(repo: Repo): string {
  const known = gitConfigValue(repo, 'consortium.writer');
  if (known && WRITER.test(known)) return known;
  const host =
    (process.env.CONSORTIUM_HOST || hostname())
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'clone';
  const id = `${host}-${randomHex(3)}`;
  try {
    setLocalConfig(repo, 'consortium.writer', id);
  } catch {
    // A held config lock: the id is new each time until it can be kept, as before.
  }
  return id;
}

export const newEventId = (at: string) => `${at.replace(/[-:.]/g, '')}-${randomHex(4)}`;

export interface GateLog {
  events: GateEvent[];
  /** Event id -> the commit that added it, where known (tips only). */
  commits: Map<string, string>;
  problems: string[];
}

/** The events of a gate record this version reads (a newer format is not one), or undefined. */
export function eventsOf(body: unknown): GateEvent[] | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const r = body as Record<string, unknown>;
  if (r.kind !== 'gates' || typeof r.format !== 'number' || !Array.isArray(r.events)) return undefined;
  if (r.format > GATES_FORMAT) return undefined;
  return r.events.filter(isGateEvent);
}

/** Every gate event of every writer, local and fetched, each once, in replay order. */
export function readGateEvents(repo: Repo): GateLog {
  const { records, bad } = readRecords(repo, [GATES, MIRRORED_GATES]);
  const problems = bad.map((b) => `Skipped the gate record ${b.ref}: ${b.reason}.`);
  const lists: GateEvent[][] = [];
  const commits = new Map<string, string>();
  for (const r of records) {
    const events = eventsOf(r.body);
    if (!events) {
      problems.push(`Skipped the gate record ${r.ref}: it is not a gate record this version can read.`);
      continue;
    }
    lists.push(events);
    const latest = (r.body as GatesRecord).latest;
    if (typeof latest === 'string') commits.set(latest, r.commit);
  }
  return { events: mergeEvents(lists), commits, problems };
}

/**
 * Appends one event to this clone's gate ref by compare-and-swap, retrying when another
 * process of this clone wrote in between; returns the ref and the new commit.
 */
export function appendGateEvent(
  repo: Repo,
  event: GateEvent,
  author: Author,
): { ref: string; commit: string; previous?: string } {
  const writer = writerId(repo);
  const ref = gatesRef(writer);
  for (let attempt = 0; attempt < 12; attempt++) {
    const tips = readTips(repo, [ref, mirrorOf(ref)]);
    const local = tips.get(ref);
    const mirror = tips.get(mirrorOf(ref));
    const base = mergeEvents([local?.events ?? [], mirror?.events ?? []]);
    const body: GatesRecord = {
      format: GATES_FORMAT,
      kind: 'gates',
      writer,
      latest: event.id,
      events: [...base.filter((e) => e.id !== event.id), event],
    };
    const parents = [local, mirror]
      .filter((t): t is Tip => !!t?.isCommit)
      .map((t) => t.sha)
      .filter((sha, i, all) => all.indexOf(sha) === i);
    const subject = `gates: ${event.action} ${event.gate} by ${event.by}${event.forced ? ' (forced)' : ''}`;
    const commit = writeRecordCommit(repo, subject, body, parents, author);
    if (compareAndSwap(repo, ref, commit, local?.sha ?? ZERO)) return { ref, commit, previous: local?.sha };
    backoff(attempt);
  }
  throw refusal('The gate record of this clone is being changed by other processes right now; try again.');
}

/** Takes back an event the server's gate refused: the ref goes back to what it held before. */
export function undoGateEvent(
  repo: Repo,
  appended: { ref: string; commit: string; previous?: string },
): boolean {
  return appended.previous
    ? compareAndSwap(repo, appended.ref, appended.previous, appended.commit)
    : deleteRef(repo, appended.ref, appended.commit);
}

interface Tip {
  sha: string;
  isCommit: boolean;
  events: GateEvent[];
}

function readTips(repo: Repo, refs: string[]): Map<string, Tip> {
  const tips = new Map<string, Tip>();
  let contents: ReturnType<typeof refContents> = [];
  try {
    contents = refContents(repo, refs);
  } catch {
    // refs that cannot be read are no tips: the gates replay what there is
  }
  for (const { ref, sha, type, message } of contents) {
    if (!refs.includes(ref)) continue;
    const parsed = parseMessage(type, message);
    const events = 'reason' in parsed ? [] : (eventsOf(parsed.body) ?? []);
    tips.set(ref, { sha, isCommit: type === 'commit', events });
  }
  return tips;
}

/**
 * Every gate record commit in the history of every writer (for the audit trail): the event
 * each commit added, with its commit id. One `git log` over both namespaces.
 */
export async function gateEventCommits(repo: Repo): Promise<{ event: GateEvent; commit: string }[]> {
  const seen = new Set<string>();
  const found: { event: GateEvent; commit: string }[] = [];
  for (const { sha, message } of await recordHistory(repo, [`${GATES}*`, `${MIRRORED_GATES}*`])) {
    const parsed = parseMessage('commit', message);
    if ('reason' in parsed) continue;
    const body = parsed.body as Partial<GatesRecord>;
    const events = eventsOf(body);
    const event = events?.find((e) => e.id === body.latest);
    if (!event || seen.has(event.id)) continue;
    seen.add(event.id);
    found.push({ event, commit: sha });
  }
  return found;
}
