import { now } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { blobAt, writeObject, writeTree } from '../git/objects.js';
import { pushLeased } from '../git/remote.js';
import type { Repo } from '../git/repo.js';
import {
  ARCHIVE_FORMAT,
  ARCHIVE_LIST,
  ARCHIVE_REF,
  type ArchivedSession,
  type ArchiveRecord,
  toArchive,
  toArchiveList,
} from './formats.js';
import { type Author, adoptAccepted, readRecords, writeRecordCommit } from './records.js';
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
/** Parents of one bundle commit (see writeArchive). */
const FANOUT = 16;

export interface StoredArchive {
  archive: ArchiveRecord;
  /** Every archived session, from the archive commit's tree. */
  sessions: ArchivedSession[];
  /** The commit holding it; undefined when nothing was archived yet. */
  commit: string | undefined;
  problem?: string;
}

const EMPTY: ArchiveRecord = { format: ARCHIVE_FORMAT, kind: 'archive', seq: 0, count: 0 };

/**
 * The archive known here: the fetched copy when it reads, else the local one (two git
 * processes: the records, then the list in the tree of the one chosen).
 */
export function readArchive(repo: Repo, refs = [ARCHIVE_REF, ARCHIVE_MIRROR]): StoredArchive {
  const { records, bad } = readRecords(repo, refs);
  let best: { archive: ArchiveRecord; commit: string; ref: string } | undefined;
  let broken = bad.find((b) => refs.includes(b.ref))?.ref;
  for (const record of records) {
    if (!refs.includes(record.ref)) continue;
    const archive = toArchive(record.body);
    if (!archive) broken ??= record.ref;
    else if (!best || record.ref === ARCHIVE_MIRROR)
      best = { archive, commit: record.commit, ref: record.ref };
  }
  const sessions = best ? toArchiveList(blobAt(repo, best.commit, ARCHIVE_LIST)) : [];
  if (best && !sessions) broken ??= best.ref;
  const problem = broken ? `the archive ${broken} cannot be read` : undefined;
  return best && sessions
    ? { archive: best.archive, sessions, commit: best.commit, problem }
    : { archive: EMPTY, sessions: [], commit: undefined, problem };
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
  const kept = base.sessions.filter((s) => !added.has(s.id) && !options.drop?.has(s.id));
  const sessions = [...kept, ...entries].sort((a, b) => (a.id < b.id ? -1 : 1));
  // A new chain must still reach every session it keeps.
  const reach = keepHistory ? entries : sessions;
  // Dated when the newest of its sessions finished (at least archiveAfter ago), not now: a push
  // walks back from the refs the remote advertises in date order, and a fresh commit pushed is
  // then newer than the archive, so the walk stops before the records behind it.
  const newest = sessions.reduce((t, s) => Math.max(t, Date.parse(s.endedAt ?? s.heartbeatAt) || 0), 0);
  const at = newest > 0 ? new Date(newest) : now();
  // The sessions' last records reached through a tree of small bundle commits: git parses the
  // parents of a few commits past where a walk could stop, so a wide bundle would have every
  // push read hundreds of records, a narrow tree only a few dozen.
  let level = [...new Set(reach.map((e) => e.commit))];
  while (level.length > FANOUT) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += FANOUT) {
      const chunk = level.slice(i, i + FANOUT);
      next.push(
        writeRecordCommit(
          repo,
          `archive bundle: ${chunk.length} records`,
          { format: ARCHIVE_FORMAT, kind: 'archive-bundle', count: chunk.length },
          chunk,
          author,
          at,
        ),
      );
    }
    level = next;
  }
  const record: ArchiveRecord = {
    format: ARCHIVE_FORMAT,
    kind: 'archive',
    seq: base.archive.seq + 1,
    count: sessions.length,
  };
  const list = writeObject(repo, 'blob', `${JSON.stringify(sessions, null, 1)}\n`);
  const tree = writeTree(repo, { [ARCHIVE_LIST]: list });
  const what = entries.length
    ? `${entries.length} session${entries.length === 1 ? '' : 's'} archived`
    : `${options.drop?.size ?? 0} pruned`;
  const parents = [...(keepHistory && base.commit ? [base.commit] : []), ...level];
  const commit = writeRecordCommit(
    repo,
    `archive: ${what} (${sessions.length} in all, listed in ${ARCHIVE_LIST})`,
    record,
    parents,
    author,
    at,
    tree,
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
    adoptAccepted(repo, [ARCHIVE_MIRROR, ARCHIVE_REF], commit);
    return { ok: true };
  }
  if (result.refs.length) {
    const refused = result.refs.find((r) => r.rejected && !/atomic/.test(r.reason)) ?? answer;
    if (refused?.declined) return { ok: false, reason: 'refused', detail: refused.reason };
    return { ok: false, reason: 'moved', detail: firstLine(refused?.reason ?? result.stderr) };
  }
  return { ok: false, reason: 'unreachable', detail: firstLine(result.stderr) };
}
