import type { Context } from '../context/context.js';
import { environmentError } from '../core/errors.js';
import { type RefContent, refContents, updateRefs } from '../git/refs.js';
import { unshareable, validLease } from '../store/formats.js';
import {
  highestSeq,
  LEASE_FORMAT,
  pushLeaseTable,
  readFetchedTable,
  writeLeaseCommit,
} from '../store/leases.js';
import { parseMessage } from '../store/records.js';
import { LEASES_MIRROR, LEASES_REF, LOCAL, MIRROR, mirrorOf } from '../store/refs.js';
import { pushRefs } from '../store/remote.js';
import { authorFor } from './sessions.js';

/**
 * What `recover` does with records this version cannot read (a hand-edited ref, a record of a
 * newer release, a seq past counting): a local one is restored from the remote's copy when
 * that one reads, and otherwise set aside; either way its bytes stay under
 * refs/consortium-quarantine/ for a person, outside everything the toolkit reads or shares, so
 * no command warns about it again. A lease table on the remote that cannot be read is
 * replaced, keeping the leases it still holds, by compare-and-swap like any lease change.
 */
export const QUARANTINE = 'refs/consortium-quarantine/';

export interface Repair {
  action: 'restore-record' | 'quarantine-record' | 'repair-remote-record' | 'repair-lease-table';
  target: string;
  reason: string;
  done: boolean;
  /** Where the unreadable bytes are kept. */
  kept?: string;
  problem?: string;
}

/** Where the bytes of an unreadable ref are kept: its name, and the object it pointed at. */
export const quarantineOf = (ref: string, sha: string) =>
  `${QUARANTINE}${ref.slice(LOCAL.length)}-${sha.slice(0, 12)}`;

function contentsOf(ctx: Context, prefixes: string[]): RefContent[] {
  try {
    return refContents(ctx.repo, prefixes);
  } catch (error) {
    throw environmentError((error as Error).message);
  }
}

/** Local records this version cannot read: restored from the fetched copy, or set aside. */
export function repairLocalRecords(ctx: Context, dryRun: boolean): Repair[] {
  const contents = contentsOf(ctx, [LOCAL, MIRROR]);
  const byRef = new Map(contents.map((c) => [c.ref, c]));
  const repairs: Repair[] = [];
  for (const content of contents) {
    if (!content.ref.startsWith(LOCAL)) continue;
    const reason = unshareable(content);
    if (!reason) continue;
    const mirror = byRef.get(mirrorOf(content.ref));
    // The fetched copy is judged by what it would be here, under the local name.
    const good = mirror && !unshareable({ ...mirror, ref: content.ref }) ? mirror : undefined;
    const kept = quarantineOf(content.ref, content.sha);
    const repair: Repair = {
      action: good ? 'restore-record' : 'quarantine-record',
      target: content.ref,
      reason,
      done: false,
      kept,
    };
    repairs.push(repair);
    if (dryRun) continue;
    // One transaction: the bytes are kept before the ref moves, or nothing happens.
    repair.done = updateRefs(ctx.repo, [
      `create ${kept} ${content.sha}\n`,
      good ? `update ${content.ref} ${good.sha} ${content.sha}\n` : `delete ${content.ref} ${content.sha}\n`,
    ]);
    if (!repair.done) repair.problem = 'the ref changed meanwhile, or a lock holds it; run recover again';
  }
  return repairs;
}

/**
 * The remote's lease table, as just fetched, when it cannot be read: replaced by a table that
 * keeps every lease it still holds, with a seq past the highest there ever was, offered by
 * compare-and-swap against the unreadable version (which stays in its history, as a parent,
 * when it is a commit).
 */
export async function repairLeaseTable(ctx: Context, dryRun: boolean): Promise<Repair | undefined> {
  const server = readFetchedTable(ctx.repo);
  if (!server.problem || !server.commit) return undefined;
  const [content] = contentsOf(ctx, [LEASES_MIRROR]);
  if (!content || content.sha !== server.commit) return undefined;
  const reason = unshareable({ ...content, ref: LEASES_REF }) ?? 'it cannot be read';
  const repair: Repair = {
    action: 'repair-lease-table',
    target: `${LEASES_REF} on ${ctx.config.remote}`,
    reason,
    done: false,
  };
  if (dryRun) return repair;
  const parsed = parseMessage(content.type, content.message);
  const body = 'reason' in parsed ? undefined : (parsed.body as { leases?: unknown } | null);
  const leases = Array.isArray(body?.leases) ? body.leases.filter(validLease) : [];
  const table = { format: LEASE_FORMAT, seq: highestSeq(ctx.repo) + 1, leases, change: null };
  const commit = writeLeaseCommit(
    ctx.repo,
    table,
    content.type === 'commit' ? content.sha : undefined,
    authorFor(ctx, 'git-consortium'),
    'leases: an unreadable table replaced by recover, keeping its leases',
  );
  const pushed = await pushLeaseTable(ctx.repo, ctx.config, commit, content.sha);
  repair.done = pushed.ok;
  if (!pushed.ok) repair.problem = `the remote did not take it (${pushed.detail}); run recover again`;
  return repair;
}

/**
 * Records on the remote (as just fetched) this version cannot read, other than the lease
 * table: replaced by the local copy when that one reads, by compare-and-swap against what was
 * fetched. A record of a newer release is left alone: it is the newer release's to read.
 */
export async function repairRemoteRecords(ctx: Context, dryRun: boolean): Promise<Repair[]> {
  const contents = contentsOf(ctx, [LOCAL, MIRROR]);
  const byRef = new Map(contents.map((c) => [c.ref, c]));
  const repairs: Repair[] = [];
  for (const mirror of contents) {
    if (!mirror.ref.startsWith(MIRROR) || mirror.ref === LEASES_MIRROR) continue;
    const ref = LOCAL + mirror.ref.slice(MIRROR.length);
    const reason = unshareable({ ...mirror, ref });
    if (!reason || /newer than this version/.test(reason)) continue;
    const local = byRef.get(ref);
    if (!local || unshareable(local)) continue;
    repairs.push({
      action: 'repair-remote-record',
      target: `${ref} on ${ctx.config.remote}`,
      reason,
      done: false,
    });
  }
  if (dryRun || repairs.length === 0) return repairs;
  const refs = repairs.map((r) => r.target.slice(0, r.target.indexOf(' on ')));
  const pushed = await pushRefs(ctx.repo, ctx.config, refs);
  for (const [i, repair] of repairs.entries()) {
    repair.done = pushed.accepted.includes(refs[i]!);
    if (!repair.done)
      repair.problem = pushed.outcome.ok
        ? 'the remote copy changed since it was fetched; run recover again'
        : `the remote cannot be reached (${pushed.outcome.detail})`;
  }
  return repairs;
}
