import type { Config } from '../core/config.js';
import { recordHistory } from '../git/history.js';
import { resolveRef, updateRefs } from '../git/refs.js';
import { pushLeased } from '../git/remote.js';
import type { Repo } from '../git/repo.js';
import { LEASE_FORMAT, type LeaseTable, toTable } from './formats.js';
import { type Author, adoptAccepted, parseMessage, readRecords, writeRecordCommit, ZERO } from './records.js';
import { LEASES_MIRROR, LEASES_REF, MIRROR } from './refs.js';
import {
  FETCH_TIMEOUT_MS,
  fetchRefspecs,
  firstLine,
  type NetworkOutcome,
  noAnswer,
  PUSH_TIMEOUT_MS,
} from './remote.js';

export { LEASE_FORMAT, type LeaseChange, type LeaseTable, toTable } from './formats.js';

/**
 * The lease table: ONE ref, refs/consortium/leases, a chain of commits each holding the whole
 * table. Overlapping patterns (protocol/** and protocol/spec.md) have different names, so
 * one ref per lease could not make them exclusive; one ref written by compare-and-swap on
 * the git server can: every change is pushed with --force-with-lease against the version it
 * was computed from, and the server's ref lock lets exactly one of any racers through.
 * Locally the ref and its mirror only ever hold versions the server accepted; readers take
 * the fetched one when it reads (else the local one).
 */

export interface StoredTable {
  table: LeaseTable;
  /** The commit holding it; undefined when there is no table yet. */
  commit: string | undefined;
  /** A table that could not be read (hand-edited, corrupt). */
  problem?: string;
}

const EMPTY: LeaseTable = { format: LEASE_FORMAT, seq: 0, leases: [], change: null };

/** The newest lease table known here (local copy or fetched mirror), in one git process. */
export function readLeaseTable(repo: Repo, refs = [LEASES_REF, LEASES_MIRROR]): StoredTable {
  const { records, bad } = readRecords(repo, refs);
  let best: (StoredTable & { ref: string }) | undefined;
  const unreadable: { ref: string; commit: string }[] = bad.filter((b) => refs.includes(b.ref));
  for (const record of records) {
    if (!refs.includes(record.ref)) continue;
    const table = toTable(record.body);
    if (!table) unreadable.push(record);
    // The server's copy as fetched wins whenever it reads: the local one only ever holds versions
    // the server accepted before, and a table the server replaced (recover's repair of an
    // unreadable one) may count from lower than a stale local copy.
    else if (
      !best ||
      record.ref === LEASES_MIRROR ||
      (best.ref !== LEASES_MIRROR && table.seq > best.table.seq)
    )
      best = { table, commit: record.commit, ref: record.ref };
  }
  const broken = unreadable[0];
  const problem = broken
    ? `the lease table ${broken.ref} cannot be read; the next lease change replaces it`
    : undefined;
  if (best) return { table: best.table, commit: best.commit, problem };
  return { table: EMPTY, commit: broken?.commit, problem };
}

/**
 * The highest seq any readable version of the table ever had, here or fetched (one git
 * process). A table written over an unreadable one continues from it, so that no machine's
 * older copy, with its higher seq, is read as the newer one.
 */
export function highestSeq(repo: Repo): number {
  let highest = 0;
  for (const { message } of recordHistory(repo, ['refs/consortium/lease[s]', `${MIRROR}lease[s]`])) {
    const parsed = parseMessage('commit', message);
    const table = 'reason' in parsed ? undefined : toTable(parsed.body);
    if (table && table.seq > highest) highest = table.seq;
  }
  return highest;
}

/** The server's table as last fetched: what a compare-and-swap must be computed from. */
export const readFetchedTable = (repo: Repo) => readLeaseTable(repo, [LEASES_MIRROR]);

/**
 * Fetches only the lease table into its mirror (a glob refspec, so a remote without a table
 * is not an error, and --prune drops a mirror the remote no longer has).
 */
export function fetchLeaseTable(
  repo: Repo,
  config: Config,
  timeoutMs = FETCH_TIMEOUT_MS,
): Promise<NetworkOutcome> {
  return fetchRefspecs(repo, config, [`+${LEASES_REF}*:${LEASES_MIRROR}*`], timeoutMs);
}

export function writeLeaseCommit(
  repo: Repo,
  table: LeaseTable,
  parent: string | undefined,
  author: Author,
  what = 'leases',
) {
  const change = table.change;
  const subject = change
    ? `leases: ${change.action} ${change.patterns.join(' ')} (${change.researcher}, session ${change.session})`
    : what;
  return writeRecordCommit(repo, subject, table, parent ? [parent] : [], author);
}

export type PushOutcome = NetworkOutcome | { ok: false; reason: 'moved'; detail: string };

/**
 * Pushes `commit` as the server's lease table, only if the server still holds `expected`
 * (undefined: the server must have none). On success the local copy and the mirror follow.
 */
export async function pushLeaseTable(
  repo: Repo,
  config: Config,
  commit: string,
  expected: string | undefined,
  timeoutMs = PUSH_TIMEOUT_MS,
): Promise<PushOutcome> {
  // Both local copies as the table was computed from: when they still hold the version the
  // new one follows, they move with one transaction and nothing is read again.
  const before = [LEASES_MIRROR, LEASES_REF].map((ref) => resolveRef(repo, ref));
  const result = await pushLeased(
    repo,
    config.remote,
    [{ src: commit, dst: LEASES_REF, expected: expected ?? '' }],
    timeoutMs,
  );
  if (result.timedOut) return { ok: false, reason: 'timeout', detail: noAnswer(config, timeoutMs) };
  const answer = result.refs.find((r) => r.dst === LEASES_REF);
  if (answer && !answer.rejected) {
    const follows = before.every((sha) => sha === undefined || sha === expected);
    const moved =
      follows &&
      updateRefs(
        repo,
        [LEASES_MIRROR, LEASES_REF].map((ref, i) => `update ${ref} ${commit} ${before[i] ?? ZERO}\n`),
      );
    if (!moved) adoptAccepted(repo, [LEASES_MIRROR, LEASES_REF], commit);
    return { ok: true };
  }
  if (answer?.declined) return { ok: false, reason: 'refused', detail: answer.reason };
  if (answer) return { ok: false, reason: 'moved', detail: firstLine(answer.reason) };
  return { ok: false, reason: 'unreachable', detail: firstLine(result.stderr) };
}
