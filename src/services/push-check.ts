import type { Conflict } from '../analysis/conflicts.js';
import type { LeaseView } from '../analysis/leases.js';
import {
  blocking,
  type GateAction,
  type PushConflict,
  protocolCandidates,
  pushConflicts,
} from '../analysis/push.js';
import { stateOf } from '../analysis/state.js';
import type { Context } from '../context/context.js';
import { findCurrentSession } from '../context/current-session.js';
import { resolveIdentity } from '../context/identity.js';
import { agentEnvironment } from '../core/agent.js';
import type { PolicyAction, ServerKind } from '../core/config.js';
import { phase } from '../core/phases.js';
import { type CommitSelection, commitsWithFiles } from '../git/history.js';
import { existingCommits } from '../git/merge-tree.js';
import { containedIn } from '../git/refs.js';
import { fetchCoordination } from '../store/remote.js';
import type { Session } from '../store/sessions.js';
import { currentLeases } from './leases.js';
import { liveBranchRefspecs } from './line-index.js';
import { fetchSessionBranches, mergeConflictsFor, sessionBranchRefspecs } from './predict.js';
import type { SessionView } from './view.js';

/**
 * The pre-push gate's analysis (SPEC section 7), shared by the pre-push hook and `check`:
 * bring the coordination state from the remote (bounded), work out the commits each pushed
 * ref adds and the files they change, and meet them with the other live sessions. Kinds are
 * computed by sources listed in KIND_SOURCES: adding a kind is one line there.
 */
export const GATE_FETCH_TIMEOUT_MS = 3000;

/** The gate answers within this whatever the push (CONSORTIUM_GATE_BUDGET_MS for tests). */
const gateBudgetMs = () => Number(process.env.CONSORTIUM_GATE_BUDGET_MS) || 10_000;

export interface PushTarget {
  /** The ref being pushed (refs/heads/x), or what `check` was asked about. */
  ref: string;
  /** The commit pushed. */
  tip: string;
  /** `git log` revision arguments selecting the commits the remote does not have. */
  commits: CommitSelection;
  /** The ref it goes to on the remote (a push, not a check), where its landing is seen. */
  pushedTo?: string;
}

export interface PushedCommit {
  sha: string;
  files: string[];
}

export interface RefCheck {
  ref: string;
  tip: string;
  pushedTo?: string;
  commits: PushedCommit[];
  files: string[];
  /** The session this ref is the work of, when there is one. */
  session?: Session;
  researcher?: string;
}

export interface PushCheck {
  refs: RefCheck[];
  conflicts: PushConflict[];
  /**
   * Set when the check could not be made in full: the coordination state could not be
   * brought from the remote, or the refs pushed were more than the time bound allows.
   */
  offline?: { action: PolicyAction; detail: string; kind?: 'unreachable' | 'budget' };
  /** Whether the policy stops the push (before any override). */
  blocked: boolean;
  /** The coordination state was brought from the remote just now. */
  fetched: boolean;
  /** Refspecs of the session branches that came with that fetch (for the line index after it). */
  carried: string[];
}

/** Everything a kind source needs for one pushed ref. */
export interface RefContext {
  ctx: Context;
  ref: RefCheck;
  /** Live sessions other than mine, minus those whose work the pushed commits contain. */
  others: SessionView[];
  /** The leases that count now (read once per check). */
  leases: LeaseView[];
  /** The remote did not answer the coordination fetch: no further network calls. */
  offline: boolean;
  /** Refspecs of session branches that came with the coordination fetch (liveBranchRefspecs). */
  carried: ReadonlySet<string>;
  policy: GatePolicy;
}

/** The action of each kind the gate decides: the clients' policy, or the server's. */
export type GatePolicy = Record<ServerKind, PolicyAction>;

/** How the gate runs on the server (SPEC section 13): its own state is the authority. */
export interface OnServer {
  policy: GatePolicy;
  /** Who pushes, when the server knows (context/pusher.ts). */
  pusher?: string;
  /** The server enforces who pushes (server.identity): a pusher it does not know is nobody's session. */
  enforced?: boolean;
}

type KindSource = (input: RefContext) => Promise<PushConflict[]> | PushConflict[];

/** One line per kind that needs git; lease, protocol and foreign are pure (analysis/push.ts). */
const KIND_SOURCES: KindSource[] = [
  ({ ctx, ref, others, leases, policy }) =>
    pushConflicts({
      files: ref.files,
      me: { session: ref.session?.id, researcher: ref.researcher },
      others,
      leases,
      researchers: ctx.researchers,
      config: { protocol: ctx.config.protocol, policy },
      nowMs: ctx.nowMs,
    }),
  (input) => withPolicy(input.ctx, input.policy.merge, mergeKind(input), input.ref.session?.id),
];

export async function checkPush(
  ctx: Context,
  targets: PushTarget[],
  options: {
    fetch: boolean;
    timeoutMs?: number;
    /** Whose push it is when no session names the branch and the caller's identity says nothing (CI). */
    researcher?: string;
    /** Told what the check waits for now, for a progress line. */
    waiting?: (what: string) => void;
    /** Run by the server's gate: no fetch, no local identity, the server's policy. */
    onServer?: OnServer;
  } = { fetch: true },
): Promise<PushCheck> {
  const policy = options.onServer?.policy ?? ctx.config.policy;
  const started = Date.now();
  let offline: PushCheck['offline'];
  let fetched = false;
  let carried = new Set<string>();
  if (options.fetch) {
    options.waiting?.(`git-consortium: fetching the coordination state from ${ctx.config.remote}`);
    const timeoutMs = options.timeoutMs ?? GATE_FETCH_TIMEOUT_MS;
    // The live sessions' branches in the same fetch: the merge check needs their newest pushed
    // work, and so does the line index after the push; on their own they cost a round trip more.
    const along = liveBranchRefspecs(ctx, policy.merge !== 'off');
    let outcome = await fetchCoordination(ctx.repo, ctx.config, timeoutMs, along);
    // The others' branches may be more than the bound allows (a large push of theirs): the
    // records alone then, so that their size never makes the remote look unreachable.
    if (!outcome.ok && outcome.reason === 'timeout' && along.length)
      outcome = await fetchCoordination(ctx.repo, ctx.config, timeoutMs);
    else if (outcome.ok) carried = new Set(along);
    ctx.invalidate();
    fetched = outcome.ok;
    if (!outcome.ok && outcome.reason !== 'no-remote')
      offline = { action: ctx.config.policy.offline, detail: outcome.detail };
    phase('fetch');
  }
  options.waiting?.('git-consortium: predicting merges with the other live sessions');
  const leases = currentLeases(ctx);
  const live = liveSessions(ctx, leases);
  const refs: RefCheck[] = [];
  const conflicts: PushConflict[] = [];
  const budget = gateBudgetMs();
  for (const [i, target] of targets.entries()) {
    // Past the bound, what is left goes unchecked, and policy.offline decides as for an
    // unreachable remote: a push of thousands of branches must not stall for minutes.
    if (Date.now() - started > budget) {
      offline = {
        // Under an agent what is left unchecked stops the push: which refs come last is the pusher's choice.
        action: agentEnvironment() ? 'block' : ctx.config.policy.offline,
        detail: `${targets.length - i} of ${targets.length} refs were not checked within ${budget / 1000}s`,
        kind: 'budget',
      };
      break;
    }
    const ref = options.onServer
      ? describeServerRef(ctx, target, live, options.onServer)
      : describeRef(ctx, target, live, options.researcher);
    refs.push(ref);
    phase('describe');
    if (ref.files.length === 0) continue;
    const others = notContained(
      ctx,
      ref,
      live.filter((s) => s.id !== ref.session?.id),
    );
    for (const source of KIND_SOURCES)
      conflicts.push(
        ...(await source({
          ctx,
          ref,
          others,
          leases,
          offline: !!offline || !!options.onServer,
          carried,
          policy,
        })),
      );
  }
  // The clients' gate blocks what the server's gate would refuse (server.policy may be stricter),
  // so that a person overrides once, here, and the server sees that override ahead of the push.
  const unique = dedupe(conflicts).map((c) =>
    !options.onServer && c.action === 'warn' && ctx.config.server.policy[c.kind as ServerKind] === 'block'
      ? { ...c, action: 'block' as const }
      : c,
  );
  const blocked = blocking(unique).length > 0 || offline?.action === 'block';
  return { refs, conflicts: unique, offline, blocked, fetched, carried: [...carried] };
}

/**
 * Live sessions and their leases. The gate does not need the conflicts between other
 * sessions that coordinationView computes (speculative merges of every overlapping pair),
 * so it reads the same parts without them.
 */
function liveSessions(ctx: Context, leases: LeaseView[]): SessionView[] {
  const staleAfter = ctx.config.sessions.staleAfterMs;
  return ctx
    .sessions()
    .sessions.map((s) => ({
      ...s,
      effectiveState: stateOf(s, ctx.nowMs, staleAfter),
      leases: leases.filter((l) => l.session === s.id).map((l) => l.pattern),
    }))
    .filter((s) => s.effectiveState === 'active');
}

/** The commits of a target, the files they change, and whose work it is. */
function describeRef(ctx: Context, target: PushTarget, live: SessionView[], fallback?: string): RefCheck {
  const commits = pushedCommits(ctx, target.commits);
  const files = [...new Set(commits.flatMap((c) => c.files))].sort();
  const branch = target.ref.startsWith('refs/heads/') ? target.ref.slice('refs/heads/'.length) : undefined;
  let session: Session | undefined;
  if (branch) {
    const onBranch = live.filter((s) => s.branch === branch);
    session = onBranch.find((s) => s.worktree === ctx.repo.top) ?? onBranch[0];
    if (!session) {
      // A stale session on this branch is still the pusher's: resuming is what pushing does.
      const open = ctx.sessions().sessions.filter((s) => s.state === 'active' && s.branch === branch);
      session = open.find((s) => s.worktree === ctx.repo.top) ?? open[0];
    }
  }
  if (!session && (!branch || branch === ctx.branch)) session = findCurrentSession(ctx, { quiet: true });
  let researcher = session?.researcher;
  if (!researcher) {
    try {
      researcher = (process.env.CONSORTIUM_RESEARCHER ? undefined : fallback) ?? resolveIdentity(ctx)?.id;
    } catch {
      // an invalid CONSORTIUM_RESEARCHER: the push is nobody's in particular
    }
  }
  return { ref: target.ref, tip: target.tip, pushedTo: target.pushedTo, commits, files, session, researcher };
}

/**
 * On the server, whose work a pushed branch is comes from the server's own records and the
 * pusher it knows: a live session on the branch, the pusher's own when the pusher is known
 * (a push to another researcher's session branch is the pusher's, not that session's).
 */
function describeServerRef(
  ctx: Context,
  target: PushTarget,
  live: SessionView[],
  { pusher, enforced }: OnServer,
): RefCheck {
  const commits = pushedCommits(ctx, target.commits);
  const files = [...new Set(commits.flatMap((c) => c.files))].sort();
  const branch = target.ref.startsWith('refs/heads/') ? target.ref.slice('refs/heads/'.length) : undefined;
  // A live session first; a stale one is still the pusher's (resuming is what pushing does).
  const mine = (s: Session) =>
    !!branch && s.state === 'active' && s.branch === branch && (pusher ? s.researcher === pusher : !enforced);
  const session = live.find(mine) ?? ctx.sessions().sessions.find(mine);
  return {
    ref: target.ref,
    tip: target.tip,
    pushedTo: target.pushedTo,
    commits,
    files,
    session,
    researcher: pusher ?? session?.researcher,
  };
}

/** The commits a push carries (those the remote does not have), each with its files. */
export function pushedCommits(ctx: Context, selection: CommitSelection): PushedCommit[] {
  return commitsWithFiles(ctx.repo, selection);
}

/**
 * Sessions whose work the pushed tip already contains are not in the way: their changes are
 * part of the push. Only the sessions that could conflict are asked about, all at once.
 */
function notContained(ctx: Context, ref: RefCheck, others: SessionView[]): SessionView[] {
  const candidates = protocolCandidates(ref.files, others, ctx.config.protocol);
  const contained = containedIn(
    ctx.repo,
    candidates.flatMap((s) => (s.head ? [s.head] : [])),
    [ref.tip],
  );
  const inPush = new Set(candidates.filter((s) => s.head && contained.has(s.head)).map((s) => s.id));
  return others.filter((s) => !inPush.has(s.id));
}

/** The `merge` kind: my pushed tip merged speculatively with the others' work (services/predict.ts). */
async function mergeKind({ ctx, ref, others, offline, carried, policy }: RefContext): Promise<Conflict[]> {
  if (policy.merge === 'off' || others.length === 0) return [];
  const files = new Set(ref.files);
  const overlapping = others.filter((s) => [...s.changedFiles, ...s.touchedFiles].some((f) => files.has(f)));
  if (overlapping.length === 0) return [];
  // Their tips must exist here to be merged: fetch the pushed branches of those whose recorded
  // head is not here yet (bounded, best effort). A session with no head has nothing committed.
  const present = existingCommits(
    ctx.repo,
    overlapping.flatMap((s) => (s.head ? [s.head] : [])),
  );
  // A branch the coordination fetch carried is as the remote has it: a head still missing was
  // never pushed, and fetching again would bring nothing.
  const missing = overlapping.filter(
    (s) => s.head && !present.has(s.head) && !sessionBranchRefspecs(ctx, [s]).every((r) => carried.has(r)),
  );
  if (missing.length && !offline) await fetchSessionBranches(ctx, missing, GATE_FETCH_TIMEOUT_MS);
  phase('branch fetch');
  const found = await mergeConflictsFor(
    ctx,
    {
      tip: ref.tip,
      session: ref.session ?? null,
      researcher: ref.researcher ?? null,
      branch: ref.ref.replace(/^refs\/heads\//, ''),
    },
    overlapping,
  );
  phase('predict');
  return found;
}

/** Gives conflicts computed elsewhere the action of their kind's policy (off: dropped). */
async function withPolicy(
  ctx: Context,
  action: PolicyAction,
  found: Promise<Conflict[]> | Conflict[],
  pusher?: string,
): Promise<PushConflict[]> {
  if (action === 'off') return [];
  const sessions = new Map(ctx.sessions().sessions.map((s) => [s.id, s]));
  return (await found).map((c) => ({
    ...c,
    action: action as GateAction,
    // A merge conflict names both sides; the pusher is not someone to agree with.
    with: c.sessions
      .filter((id) => id !== pusher)
      .map((id) => ({
        session: id,
        researcher: sessions.get(id)?.researcher ?? 'unknown',
        branch: sessions.get(id)?.branch ?? null,
      })),
  }));
}

function dedupe(conflicts: PushConflict[]): PushConflict[] {
  const seen = new Set<string>();
  return conflicts.filter((c) => {
    const key = JSON.stringify([c.kind, c.paths, c.sessions, c.researchers]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * How a blocked push may go on, as the gate tells its reader: a person gets the override
 * recipe; an agent under policy.agentOverride `block` or `ask` gets none, only what to ask a
 * person (SPEC section 7), since an agent acts on every recipe it reads.
 */
export type WayOut =
  | { kind: 'recipe'; command: string }
  | { kind: 'person'; agent: string; policy: 'block' | 'ask'; session: string | null; branch: string }
  | { kind: 'server' };

/** An override that lets a blocked push through, as the report acknowledges it. */
export interface OverrideUsed {
  reason: string;
  actor: 'person' | 'agent';
  approvedBy?: string;
}
