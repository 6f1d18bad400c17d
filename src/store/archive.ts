import type { Config } from '../core/config.js';
import { isAncestor, resolveRef } from '../git/refs.js';
import { pushLeased } from '../git/remote.js';
import type { Repo } from '../git/repo.js';
import {
  ARCHIVE_FORMAT,
  ARCHIVE_REF,
  type ArchivedSession,
  type ArchiveRecord,
  toArchive,
} from './formats.js';
import { type Author, compareAndSwap, readRecords, writeRecordCommit, ZERO } from './records.js';
import { MIRROR } from './refs.js';
import { firstLine, type NetworkOutcome, noAnswer, PUSH_TIMEOUT_MS } from './remote.js';

/**
 * The archive of finished sessions (SPEC section 5): ONE ref, refs/consortium/archive, so that
 * the refs every push pays for stay in proportion to live sessions. Its tip's record lists
 * every archived session; its parents are the previous archive commit and bundles whose
 * parents are the archived sessions' last records, so git keeps each session's whole history
 * reachable for `audit`. Like the lease table it changes only by compare-and-swap on the
 * server, here atomically with the deletion of the archived session refs, and locally it
 * holds only versions the server accepted.
 */
export { ARCHIVE_REF, type ArchivedSession, type ArchiveRecord } from './formats.js';
export const ARCHIVE_MIRROR = `${MIRROR}archive`;
/** Parents of one bundle commit: git takes any number, but tools that draw history suffer. */
const BUNDLE = 200;

export interface StoredArchive {
  archive: ArchiveRecord;
  /** The commit holding it; undefined when nothing was archived yet. */
  commit: string | undefined;
  problem?: string;
}

const EMPTY: ArchiveRecord = { format: ARCHIVE_FORMAT, kind: 'archive', seq: 0, sessions: [] };

/** The archive known here: the fetched copy when it reads, else the local one (one git process). */
export function readArchive(repo: Repo, refs = [ARCHIVE_REF, ARCHIVE_MIRROR]): StoredArchive {
  const { records, bad } = readRecords(repo, refs);
  let best: (StoredArchive & { ref: string }) | undefined;
  let broken = bad.find((b) => refs.includes(b.ref))?.ref;
  for (const record of records) {
    if (!refs.includes(record.ref)) continue;
    const archive = toArchive(record.body);
    if (!archive) broken ??= record.ref;
    else if (!best || record.ref === ARCHIVE_MIRROR)
      best = { archive, commit: record.commit, ref: record.ref };
  }
  const problem = broken ? `the archive ${broken} cannot be read` : undefined;
  return best
    ? { archive: best.archive, commit: best.commit, problem }
    : { archive: EMPTY, commit: undefined, problem };
}

/** The server's archive as last fetched: what a compare-and-swap must be computed from. */
export const readFetchedArchive = (repo: Repo) => readArchive(repo, [ARCHIVE_MIRROR]);

/**
 * Writes the next archive: `base`'s sessions with `entries` added (an entry replaces an older
 * one of the same id) and those of `drop` removed. `keepHistory` false starts a new chain
 * without the previous archive as parent, so that what was dropped becomes unreachable (prune).
 */
export function writeArchive(
  repo: Repo,
  base: StoredArchive,
  entries: ArchivedSession[],
  author: Author,
  options: { drop?: Set<string>; keepHistory?: boolean } = {},
): { commit: string; record: ArchiveRecord } {
  const keepHistory = options.keepHistory ?? true;
  const added = new Set(entries.map((e) => e.id));
  const kept = base.archive.sessions.filter((s) => !added.has(s.id) && !options.drop?.has(s.id));
  const sessions = [...kept, ...entries].sort((a, b) => (a.id < b.id ? -1 : 1));
  // A new chain must still reach every session it keeps.
  const reach = keepHistory ? entries : sessions;
  const bundles: string[] = [];
  for (let i = 0; i < reach.length; i += BUNDLE) {
    const chunk = reach.slice(i, i + BUNDLE);
    bundles.push(
      writeRecordCommit(
        repo,
        `archive bundle: ${chunk.length} session${chunk.length === 1 ? '' : 's'}`,
        { format: ARCHIVE_FORMAT, kind: 'archive-bundle', sessions: chunk.map((e) => e.id) },
        [...new Set(chunk.map((e) => e.commit))],
        author,
      ),
    );
  }
  const record: ArchiveRecord = {
    format: ARCHIVE_FORMAT,
    kind: 'archive',
    seq: base.archive.seq + 1,
    sessions,
  };
  const what = entries.length
    ? `${entries.length} session${entries.length === 1 ? '' : 's'} archived`
    : `${options.drop?.size ?? 0} pruned`;
  const parents = [...(keepHistory && base.commit ? [base.commit] : []), ...bundles];
  const commit = writeRecordCommit(
    repo,
    `archive: ${what} (${sessions.length} in all)`,
    record,
    parents,
    author,
  );
  return { commit, record };
}

export type ArchivePush = NetworkOutcome | { ok: false; reason: 'moved'; detail: string };

/**
 * Offers `commit` as the server's archive, only if the server still holds `expected` (undefined:
 * none), together with the deletion of each session ref in `deletions`, each only if it still
 * holds the sha given: all or nothing (--atomic), so a session revived meanwhile is never lost.
 */
export async function pushArchive(
  repo: Repo,
  config: Config,
  commit: string,
  expected: string | undefined,
  deletions: Map<string, string>,
  timeoutMs = PUSH_TIMEOUT_MS,
): Promise<ArchivePush> {
  const result = await pushLeased(
    repo,
    config.remote,
    [
      { src: commit, dst: ARCHIVE_REF, expected: expected ?? '' },
      ...[...deletions].map(([ref, sha]) => ({ src: '', dst: ref, expected: sha })),
    ],
    timeoutMs,
    { atomic: true },
  );
  if (result.timedOut) return { ok: false, reason: 'timeout', detail: noAnswer(config, timeoutMs) };
  const answer = result.refs.find((r) => r.dst === ARCHIVE_REF);
  if (answer && !answer.rejected && result.status === 0) {
    adoptArchive(repo, commit);
    return { ok: true };
  }
  if (result.refs.length) {
    const refused = result.refs.find((r) => r.rejected && !/atomic/.test(r.reason)) ?? answer;
    return { ok: false, reason: 'moved', detail: firstLine(refused?.reason ?? result.stderr) };
  }
  return { ok: false, reason: 'unreachable', detail: firstLine(result.stderr) };
}

/** Makes both local copies point at a version the server accepted (never backwards). */
export function adoptArchive(repo: Repo, commit: string): void {
  for (const ref of [ARCHIVE_MIRROR, ARCHIVE_REF]) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = resolveRef(repo, ref) ?? '';
      if (current === commit) break;
      if (current && isAncestor(repo, commit, current)) break;
      if (compareAndSwap(repo, ref, commit, current || ZERO)) break;
    }
  }
}
