import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { blocking } from '../analysis/push.js';
import type { Context } from '../context/context.js';
import { agentEnvironment } from '../core/agent.js';
import { iso, now } from '../core/clock.js';
import { randomHex } from '../core/ids.js';
import { localStateFile, stringList, writeJson } from '../core/local-state.js';
import { matchesAny } from '../core/patterns.js';
import { runDetached } from '../core/process.js';
import { conflictJson } from '../render/json.js';
import { type Approval, takeApproval } from '../store/approvals.js';
import { addNotes, mergeFetchedNotes, type NoteEntry } from '../store/notes.js';
import { pushSettlingNotes } from '../store/notes-sharing.js';
import type { Author } from '../store/records.js';
import { NOTES_REF, sessionRef } from '../store/refs.js';
import { pushRefs } from '../store/remote.js';
import { refreshLineIndex } from './line-index.js';
import type { OverrideUsed, PushCheck, WayOut } from './push-check.js';
import { authorFor, hostName, refreshSession } from './sessions.js';

/**
 * What follows the gate's verdict on a push (the pre-push hook asks, and prints): who may let
 * a blocked push through, and what a push that goes ahead leaves for everyone (its provenance
 * notes, the override note, the pushing session's record).
 */

/** Commits that each get their own provenance note; a longer push notes its tip with the count. */
const MAX_NOTED = 50;

/**
 * Who may let a blocked push through (SPEC section 7). A person, with CONSORTIUM_OVERRIDE.
 * Under an agent (the push's environment, not the session's kind) policy.agentOverride
 * decides: `allow` as for a person, `ask` only with a person's approval for the session
 * (git consortium approve), `block` never.
 */
export function decideOverride(ctx: Context, check: PushCheck): { override?: GateOverride; way: WayOut } {
  const reason = process.env.CONSORTIUM_OVERRIDE?.trim() || undefined;
  const way = wayOutOf(ctx, check);
  if (!check.blocked) return { way };
  if (way.kind !== 'person')
    return { override: reason ? { reason, actor: agentEnvironment() ? 'agent' : 'person' } : undefined, way };
  const { policy, session } = way;
  if (policy === 'ask' && session) {
    const approval = takeApproval(ctx.repo, session, ctx.nowMs);
    if (approval)
      return {
        override: { reason: approval.reason, actor: 'agent', approvedBy: approval.by, approval },
        way,
      };
  }
  return { way };
}

/**
 * The way out of a blocked push for whoever pushes: a person (or an agent under
 * policy.agentOverride allow) may override; any other agent must ask a person. No side effect:
 * `check` words the same way out without using up an approval.
 */
export function wayOutOf(ctx: Context, check: PushCheck): WayOut {
  const agent = agentEnvironment();
  const policy = ctx.config.policy.agentOverride;
  if (!agent || policy === 'allow') return { kind: 'recipe', command: 'git push' };
  const pushed = check.refs.find((r) => r.session) ?? check.refs[0];
  return {
    kind: 'person',
    agent: agent.name,
    policy,
    session: pushed?.session?.id ?? null,
    branch: pushed?.ref.replace(/^refs\/heads\//, '') ?? 'this branch',
  };
}

export type GateOverride = OverrideUsed & { approval?: Approval };

/**
 * Notes (provenance, override) and the pushing session's record, sent along with the push.
 * Returns what to tell the pusher when they could not be shared now (the next sync shares them).
 */
export async function recordPush(
  ctx: Context,
  check: PushCheck,
  override: GateOverride | undefined,
  /** In the detached recorder, which nobody waits for: notes the remote moved past meanwhile are merged and offered again. */
  options: { settle?: boolean } = {},
): Promise<string | undefined> {
  const researcher = check.refs.find((r) => r.researcher)?.researcher ?? 'unknown';
  const author = authorFor(ctx, researcher);
  // Our notes must contain the remote's before ours go on top, or pushing them would drop theirs.
  if (check.fetched) mergeFetchedNotes(ctx.repo, author);
  const at = iso(now());
  const refs: string[] = [];
  const notes = [...overrideNotes(check, override, researcher, at), ...provenanceNotes(ctx, check, at)];
  // Notes first: they read the refs as the gate left them, with no second look after a write.
  if (notes.length && addNotes(ctx.repo, notes, author)) refs.push(NOTES_REF);
  for (const { session } of check.refs) {
    if (session && session.host === hostName()) {
      refreshSession(ctx, session, { force: true });
      refs.push(sessionRef(session.id));
    }
  }
  return shareRecords(ctx, check, refs, options.settle ? author : undefined);
}

/**
 * An override on record and shared before git pushes, and nothing else: the server's gate
 * lets a push through on the override record sent ahead of it (server-gate.ts). The push's
 * provenance notes and the session's record follow in the detached recorder (recordPushLater).
 */
export async function recordOverride(
  ctx: Context,
  check: PushCheck,
  override: GateOverride,
): Promise<string | undefined> {
  const researcher = check.refs.find((r) => r.researcher)?.researcher ?? 'unknown';
  const author = authorFor(ctx, researcher);
  if (check.fetched) mergeFetchedNotes(ctx.repo, author);
  const notes = overrideNotes(check, override, researcher, iso(now()));
  const refs = notes.length && addNotes(ctx.repo, notes, author) ? [NOTES_REF] : [];
  // Another clone's notes landed since the gate's fetch: merged and offered again, since the
  // server's gate looks for this note on the remote when git's push arrives.
  return shareRecords(ctx, check, refs, author);
}

/**
 * Shares refs of records just written; what to tell the pusher when they could not be shared
 * now. With `settle` (the author of our notes), notes refused because the remote's moved on
 * since the gate's fetch (another clone's notes, or the server's note that an override landed,
 * written while git pushed) are fetched, merged and offered once more, as a sync would.
 */
async function shareRecords(
  ctx: Context,
  check: PushCheck,
  refs: string[],
  settle?: Author,
): Promise<string | undefined> {
  // A remote that did not answer the fetch gets no second wait: the next sync shares them.
  if (check.offline)
    return refs.length
      ? `the session record and notes will reach ${ctx.config.remote} with the next sync.`
      : undefined;
  if (refs.length === 0) return undefined;
  const unique = [...new Set(refs)];
  const pushed = settle
    ? await pushSettlingNotes(ctx.repo, ctx.config, unique, settle)
    : await pushRefs(ctx.repo, ctx.config, unique);
  if (!pushed.outcome.ok && pushed.outcome.reason !== 'no-remote')
    return `the session record and notes will reach ${ctx.config.remote} with the next sync (${pushed.outcome.detail}).`;
  return undefined;
}

/** The override note of a blocked push let through, on each pushed tip. */
function overrideNotes(
  check: PushCheck,
  override: GateOverride | undefined,
  researcher: string,
  at: string,
): { commit: string; entry: NoteEntry }[] {
  if (!check.blocked || !override) return [];
  const conflicts = blocking(check.conflicts).map(conflictJson);
  const agent = agentEnvironment();
  return check.refs.map((ref) => ({
    commit: ref.tip,
    entry: {
      type: 'override',
      at,
      by: ref.researcher ?? researcher,
      // A person or an agent, as the push's environment says; an agent's approver too.
      actor: override.actor,
      ...(agent && { agent: agent.name }),
      ...(override.approval && {
        approvedBy: override.approval.by,
        approval: { by: override.approval.by, user: override.approval.user, at: override.approval.at },
      }),
      session: ref.session?.id ?? null,
      ref: ref.ref,
      // Where git pushes it on the remote: where sync looks to see whether it landed.
      pushedTo: ref.pushedTo ?? ref.ref,
      reason: override.reason,
      // Pending: git's own push may still be refused; sync records whether it landed.
      landed: null,
      conflicts,
      offline: check.offline?.action === 'block' ? check.offline.detail : undefined,
    },
  }));
}

/** A provenance note on each pushed commit (the first MAX_NOTED of a ref; its tip counts the rest). */
function provenanceNotes(ctx: Context, check: PushCheck, at: string): { commit: string; entry: NoteEntry }[] {
  const notes: { commit: string; entry: NoteEntry }[] = [];
  for (const ref of check.refs) {
    for (const commit of ref.commits.slice(0, MAX_NOTED)) {
      const protocolFiles = commit.files.filter((f) => matchesAny(f, ctx.config.protocol));
      const entry = {
        type: 'provenance',
        at,
        session: ref.session?.id ?? null,
        researcher: ref.researcher ?? null,
        branch: ref.ref.replace(/^refs\/heads\//, ''),
        protocolFiles,
        ...(commit.sha === ref.tip && ref.commits.length > MAX_NOTED ? { commits: ref.commits.length } : {}),
      };
      notes.push({ commit: commit.sha, entry });
    }
  }
  return notes;
}

/**
 * A push that goes ahead is recorded (its provenance notes, the pushing session's record, both
 * shared) by a detached process, so that git's own push does not wait on it: the gate's verdict
 * is all a push waits for, with an override's own record (recordOverride) when there is one.
 * The order goes through a file in the clone's state folder.
 */
export async function recordPushLater(ctx: Context, check: PushCheck): Promise<string | undefined> {
  const order: RecordOrder = {
    refs: check.refs.map(({ session, ...ref }) => ({ ...ref, session: session?.id ?? null })),
    fetched: check.fetched,
    carried: check.carried,
    offline: check.offline ?? null,
  };
  const file = localStateFile(ctx.repo.commonDir, `push-record-${process.pid}-${randomHex(4)}.json`);
  // A state folder that cannot be written: recorded here and now, as with no background.
  if (!writeJson(file, order)) return recordPush(ctx, check, undefined);
  runDetached(['hook', 'push-record', file], ctx.repo.top);
  return check.offline
    ? `the session record and notes will reach ${ctx.config.remote} with the next sync.`
    : undefined;
}

interface RecordOrder {
  refs: (Omit<PushCheck['refs'][number], 'session'> & { session: string | null })[];
  /** The gate fetched the records: the recorder then refreshes the line index as well. */
  fetched: boolean;
  /** The session branches that came with the gate's fetch: not fetched again. */
  carried?: string[];
  offline: PushCheck['offline'] | null;
}

/** An order file of recordPushLater's: only ours, in this clone's state folder. */
const ORDER_FILE = /^push-record-\d+-[0-9a-f]{8}\.json$/;

/** Carries out (and removes) an order of recordPushLater, in the detached process. */
export async function recordOrdered(ctx: Context, file: string): Promise<void> {
  const folder = path.dirname(localStateFile(ctx.repo.commonDir, 'x'));
  if (path.dirname(path.resolve(file)) !== folder || !ORDER_FILE.test(path.basename(file))) return;
  let order: RecordOrder;
  try {
    order = JSON.parse(readFileSync(file, 'utf8'));
  } finally {
    rmSync(file, { force: true });
  }
  const byId = new Map(ctx.sessions().sessions.map((s) => [s.id, s]));
  const refs = order.refs.map(({ session, ...ref }) => ({
    ...ref,
    session: session ? byId.get(session) : undefined,
  }));
  try {
    await recordPush(
      ctx,
      {
        refs,
        conflicts: [],
        blocked: false,
        fetched: order.fetched,
        carried: [],
        offline: order.offline ?? undefined,
      },
      undefined,
      { settle: true },
    );
  } finally {
    // The others' branches for the line index, in this process rather than one more of its own.
    if (order.fetched) await refreshLineIndex(ctx, stringList(order.carried));
  }
}
