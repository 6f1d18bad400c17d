import type { Context } from '../context/context.js';
import type { Config } from '../core/config.js';
import { environmentError } from '../core/errors.js';
import { phase } from '../core/phases.js';
import { isAncestor, refShas, resolveRef } from '../git/refs.js';
import { ARCHIVE_MIRROR, ARCHIVE_REF } from '../store/archive.js';
import { GATES } from '../store/gates.js';
import { mergeFetchedNotes } from '../store/notes.js';
import { backoff, compareAndSwap, deleteRef, readRecords, ZERO } from '../store/records.js';
import {
  LEASES_REF,
  LOCAL,
  MIRRORED_SESSIONS,
  mirrorOf,
  NOTES_MIRROR,
  NOTES_REF,
  SESSIONS,
} from '../store/refs.js';
import { fetchRecords, type NetworkOutcome, pushRefs } from '../store/remote.js';
import { updateSession, validSession } from '../store/sessions.js';
import { archivedHere } from './archive.js';
import type { authorFor } from './sessions.js';

/**
 * The replication half of `sync`: with the remote's copy just fetched, fold it into ours without
 * letting an older copy overwrite a newer one, and push what the remote lacks by compare-and-swap,
 * fetching again when another machine got there first, while the remote answers quickly.
 */
const PUSH_ROUNDS = 4;
const RETRY_BUDGET_MS = 10_000;

export interface Replication {
  /** Coordination refs the remote accepted from here. */
  pushed: string[];
  /** Refs still refused after every retry (another machine keeps moving them). */
  rejected: string[];
  /** Refs left alone because this copy and the remote's diverged in a way sync cannot merge. */
  diverged: string[];
  /** Local refs never offered: this version cannot read what they hold (recover quarantines them). */
  held: { ref: string; reason: string }[];
  /** Refs the server's gate refused, with what it said (SPEC section 13): no retry helps. */
  refused: { ref: string; reason: string }[];
  /** Whether a later round merged notes fetched again (the first round's are merged by the caller). */
  notesMerged: boolean;
}

type Author = ReturnType<typeof authorFor>;

const sha = (ctx: Context, ref: string) => resolveRef(ctx.repo, ref);

export async function replicate(ctx: Context, config: Config, author: Author): Promise<Replication> {
  const pushed = new Set<string>();
  let rejected: string[] = [];
  let diverged: string[] = [];
  let held: Replication['held'] = [];
  let refused: Replication['refused'] = [];
  let notesMerged = false;
  const since = Date.now();
  for (let round = 0; round < PUSH_ROUNDS; round++) {
    // Retrying a race is worth it only while the remote answers quickly.
    if (round > 0 && Date.now() - since > RETRY_BUDGET_MS) break;
    if (round > 0) {
      backoff(round + 2);
      // Only what the remote refused: the rest went through, or is for the next sync.
      const again = await fetchRecords(ctx.repo, config, rejected);
      if (!again.ok) throw offline(config, again, true);
      ctx.invalidate();
      notesMerged = mergeFetchedNotes(ctx.repo, author) || notesMerged;
      phase('fetch again');
    }
    const plan = reconcile(ctx, author);
    diverged = plan.diverged;
    ctx.invalidate();
    const toPush = [...plan.push, ...pushable(ctx, plan.considered)];
    phase('reconcile');
    const result = await pushRefs(ctx.repo, config, [...new Set(toPush)]);
    phase('push');
    if (!result.outcome.ok) throw offline(config, result.outcome, true);
    for (const ref of result.accepted) pushed.add(ref);
    rejected = result.rejected;
    held = result.held;
    refused = result.refused;
    if (rejected.length === 0) break;
  }
  // A gate change the server's gate refused is no change: this clone goes back to the server's.
  for (const r of refused.filter((x) => x.ref.startsWith(GATES)))
    if (takeBack(ctx, r.ref)) r.reason = `${r.reason} The gate change is taken back here.`;
  ctx.invalidate();
  return { pushed: [...pushed].sort(), rejected, diverged, held, refused, notesMerged };
}

/** `fetched`: whether the remote's copy was brought here before it stopped answering. */
export function offline(config: Config, outcome: NetworkOutcome & { ok: false }, fetched = false) {
  return environmentError(
    `Cannot reach the remote ${config.remote} (${outcome.detail}); ` +
      `${fetched ? 'what it had was fetched, but nothing here was shared' : 'nothing was exchanged'}. ` +
      'Everything else keeps working here and is shared at the next sync.',
  );
}

interface Plan {
  /** Session refs to push. */
  push: string[];
  /** Other local refs (gates and later kinds) to weigh against their mirrors. */
  considered: string[];
  diverged: string[];
}

/**
 * Sessions: one writer each, newest copy wins. A local record the fetched copy descends from
 * is brought up to it; a local record that descends from the fetched copy (or was never
 * pushed) is pushed; two copies that diverged (another machine ended or merged it while this
 * one heartbeat) are merged into a commit with both as parents, where an end or a merge wins
 * over a heartbeat, and that is pushed. An older local copy is never pushed over a newer one.
 */
function reconcile(ctx: Context, author: Author): Plan {
  const { records } = readRecords(ctx.repo, [SESSIONS, MIRRORED_SESSIONS]);
  const local = new Map<string, { commit: string; body: unknown }>();
  const remote = new Map<string, { commit: string; body: unknown }>();
  for (const r of records) {
    if (r.ref.startsWith(SESSIONS)) local.set(r.ref.slice(SESSIONS.length), r);
    else remote.set(r.ref.slice(MIRRORED_SESSIONS.length), r);
  }
  const plan: Plan = { push: [], considered: [], diverged: [] };
  // A local session the remote lacks may be one the archive already holds: deleted, not pushed back.
  const unknown = new Map([...local].filter(([id]) => !remote.has(id)).map(([id, r]) => [id, r.commit]));
  const archived = new Set(archivedHere(ctx, unknown));
  for (const [id, mine] of local) {
    const ref = SESSIONS + id;
    const theirs = remote.get(id);
    if (!theirs) {
      if (!archived.has(id)) plan.push.push(ref);
      continue;
    }
    if (theirs.commit === mine.commit) continue;
    if (isAncestor(ctx.repo, mine.commit, theirs.commit)) {
      compareAndSwap(ctx.repo, ref, theirs.commit, mine.commit);
      continue;
    }
    if (isAncestor(ctx.repo, theirs.commit, mine.commit)) {
      plan.push.push(ref);
      continue;
    }
    if (!validSession(mine.body) || !validSession(theirs.body)) {
      plan.diverged.push(ref);
      continue;
    }
    const copies = [mine.body, theirs.body];
    const terminal = copies.find((c) => c.state !== 'active');
    updateSession(
      ctx.repo,
      id,
      'merge the copies of two machines',
      (record) =>
        record.state === 'active' && terminal
          ? { ...record, state: terminal.state, endedAt: terminal.endedAt }
          : record,
      author,
    );
    plan.push.push(ref);
  }
  const shas = refShas(ctx.repo, [LOCAL, ARCHIVE_MIRROR]);
  for (const ref of shas.keys()) {
    // The lease table and the archive change only through their own compare-and-swap on the
    // server (services/leases.ts, services/archive.ts).
    if (!ref.startsWith(LOCAL) || ref.startsWith(SESSIONS) || ref === LEASES_REF || ref === ARCHIVE_REF)
      continue;
    plan.considered.push(ref);
  }
  // The archive here follows the server's, even when a prune rewrote it.
  const fetchedArchive = shas.get(ARCHIVE_MIRROR);
  if (fetchedArchive && fetchedArchive !== shas.get(ARCHIVE_REF))
    compareAndSwap(ctx.repo, ARCHIVE_REF, fetchedArchive, shas.get(ARCHIVE_REF) ?? ZERO);
  plan.considered.push(NOTES_REF);
  return plan;
}

/**
 * Any other coordination ref (gate records, notes): pushed when it descends from what the
 * remote has, fast-forwarded when the remote's descends from it, left alone otherwise.
 */
function pushable(ctx: Context, refs: string[]): string[] {
  const out: string[] = [];
  for (const ref of refs) {
    const mine = sha(ctx, ref);
    if (!mine) continue;
    const mirror = ref === NOTES_REF ? NOTES_MIRROR : mirrorOf(ref);
    const theirs = sha(ctx, mirror);
    if (!theirs) out.push(ref);
    else if (theirs === mine) continue;
    else if (isAncestor(ctx.repo, theirs, mine)) out.push(ref);
    else if (isAncestor(ctx.repo, mine, theirs)) compareAndSwap(ctx.repo, ref, theirs, mine);
  }
  return out;
}

/** A local record ref back to the server's copy (or gone, when the server has none). */
function takeBack(ctx: Context, ref: string): boolean {
  const local = sha(ctx, ref);
  if (!local) return false;
  const server = sha(ctx, mirrorOf(ref));
  return server ? compareAndSwap(ctx.repo, ref, server, local) : deleteRef(ctx.repo, ref, local);
}
