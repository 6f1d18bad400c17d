import type { GateEvent } from '../analysis/gates.js';
import type { Context } from '../context/context.js';
import { findCurrentSession } from '../context/current-session.js';
import { resolveIdentity } from '../context/identity.js';
import { iso, now } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { environmentError, usageError } from '../core/errors.js';
import { localStateFile, readJson, writeJson } from '../core/local-state.js';
import { matchesAny } from '../core/patterns.js';
import { defaultBranch } from '../git/changes.js';
import { filesBetween } from '../git/history.js';
import { checkedOutBranch, isAncestor, refNames, resolveRef } from '../git/refs.js';
import { hasUncommittedChanges, rebaseOnto } from '../git/worktrees.js';
import { readGateEvents } from '../store/gates.js';
import { LEASES_REF } from '../store/leases.js';
import { mergeFetchedNotes } from '../store/notes.js';
import { backoff, compareAndSwap, readRecords } from '../store/records.js';
import { LOCAL, MIRRORED_SESSIONS, mirrorOf, NOTES_MIRROR, NOTES_REF, SESSIONS } from '../store/refs.js';
import { fetchCoordination, hasRemote, type NetworkOutcome, pushRefs } from '../store/remote.js';
import { listSessions, type Session, updateSession, validSession } from '../store/sessions.js';
import { markMergedSessions } from './merged.js';
import { authorFor, hostName } from './sessions.js';

/**
 * `sync` (SPEC section 6): brings the remote's coordination state here, folds it into ours
 * without letting an older copy overwrite a newer one, pushes what the remote lacks by
 * compare-and-swap (fetching again when another machine got there first), marks sessions
 * whose work the default branch contains as merged, and says what changed for me.
 */
const PUSH_ROUNDS = 4;
const RETRY_BUDGET_MS = 10_000;

export interface SessionBrief {
  id: string;
  researcher: string;
  branch: string | null;
  host: string;
  intent: string;
  state: string;
}

export interface RebaseOutcome {
  branch: string;
  onto: string;
  status: 'rebased' | 'up-to-date' | 'conflict' | 'refused';
  /** Files that conflicted (status conflict). */
  conflicts: string[];
  message: string;
}

export interface SyncReport {
  remote: string;
  defaultBranch: string;
  /** Coordination refs the remote accepted from here. */
  pushed: string[];
  /** Refs still refused after every retry (another machine keeps moving them). */
  rejected: string[];
  /** Refs left alone because this copy and the remote's diverged in a way sync cannot merge. */
  diverged: string[];
  notesMerged: boolean;
  sessions: { started: SessionBrief[]; ended: SessionBrief[]; merged: SessionBrief[] };
  protocol: { changed: string[]; from: string | null; to: string | null };
  gates: Pick<GateEvent, 'gate' | 'action' | 'by' | 'at' | 'forced' | 'note'>[];
  rebase: RebaseOutcome | null;
}

const brief = (s: Session): SessionBrief => ({
  id: s.id,
  researcher: s.researcher,
  branch: s.branch,
  host: s.host,
  intent: s.intent,
  state: s.state,
});

const sha = (ctx: Context, ref: string) => resolveRef(ctx.repo, ref);

export async function sync(ctx: Context, options: { remote?: string; rebase: boolean }): Promise<SyncReport> {
  const config: Config = options.remote ? { ...ctx.config, remote: options.remote } : ctx.config;
  if (options.remote !== undefined && !hasRemote(ctx.repo, options.remote))
    throw usageError(
      `There is no remote named ${JSON.stringify(options.remote)} here (git remote -v lists them).`,
    );
  if (!hasRemote(ctx.repo, config.remote))
    throw environmentError(
      `There is no remote named ${config.remote} to sync with. Add one (git remote add ${config.remote} URL) or set remote in the configuration.`,
    );
  const branch = defaultBranch(ctx.repo, config).name;
  const tracking = `refs/remotes/${config.remote}/${branch}`;

  // "What changed for me" is measured from the last sync here, else from what was known.
  const last = readLastSync(ctx);
  const before = new Map<string, string>(
    last ? Object.entries(last.sessions) : listSessions(ctx.repo).sessions.map((s) => [s.id, s.state]),
  );
  const gatesBefore = new Set(last?.gates ?? readGateEvents(ctx.repo).events.map((e) => e.id));
  const tipBefore = last?.tips[branch] ?? sha(ctx, tracking);

  const fetched = await fetchCoordination(ctx.repo, config, undefined, [
    `+refs/heads/${branch}*:refs/remotes/${config.remote}/${branch}*`,
  ]);
  if (!fetched.ok) throw offline(config, fetched);
  // Who writes the merge commits (notes, sessions): known after the fetch, from fresh records.
  ctx.invalidate();
  const author = authorFor(ctx, resolveIdentity(ctx)?.id ?? 'git-consortium');

  const pushed = new Set<string>();
  let rejected: string[] = [];
  let diverged: string[] = [];
  let notesMerged = false;
  const since = Date.now();
  for (let round = 0; round < PUSH_ROUNDS; round++) {
    // Retrying a race is worth it only while the remote answers quickly.
    if (round > 0 && Date.now() - since > RETRY_BUDGET_MS) break;
    if (round > 0) {
      backoff(round + 2);
      const again = await fetchCoordination(ctx.repo, config);
      if (!again.ok) throw offline(config, again, true);
      ctx.invalidate();
    }
    notesMerged = mergeFetchedNotes(ctx.repo, author) || notesMerged;
    if (round === 0) {
      const local = `refs/heads/${defaultBranch(ctx.repo, config).name}`;
      markMergedSessions(ctx, {
        targets: sha(ctx, tracking) ? [tracking] : [local],
        thisHostOnly: false,
        author,
      });
    }
    const plan = reconcile(ctx, author);
    diverged = plan.diverged;
    ctx.invalidate();
    const toPush = [...plan.push, ...pushable(ctx, plan.considered)];
    const result = await pushRefs(ctx.repo, config, [...new Set(toPush)]);
    if (!result.outcome.ok) throw offline(config, result.outcome, true);
    for (const ref of result.accepted) pushed.add(ref);
    rejected = result.rejected;
    if (rejected.length === 0) break;
  }
  ctx.invalidate();

  const after = listSessions(ctx.repo).sessions;
  // Sessions of this machine are no news to it, unless something other than it changed them.
  const host = hostName();
  const endedElsewhere = (s: Session) => {
    const recovered = s.extra?.recovered as { host?: unknown } | undefined;
    return s.state === 'ended' && !!recovered && recovered.host !== host;
  };
  const news = after.filter((s) => s.host !== host || endedElsewhere(s));
  const started = news.filter((s) => !before.has(s.id) && s.state === 'active');
  const ended = news.filter((s) => (before.get(s.id) ?? 'active') === 'active' && s.state === 'ended');
  const mergedNow = after.filter((s) => s.state === 'merged' && before.get(s.id) !== 'merged');
  const tipAfter = sha(ctx, tracking);
  const gateEvents = readGateEvents(ctx.repo).events;
  const gates = gateEvents
    .filter((e) => !gatesBefore.has(e.id))
    .map(({ gate, action, by, at, forced, note }) => ({ gate, action, by, at, forced, note }));
  writeLastSync(ctx, {
    at: iso(now()),
    sessions: Object.fromEntries(after.map((s) => [s.id, s.state])),
    gates: gateEvents.map((e) => e.id),
    tips: { ...(last?.tips ?? {}), ...(tipAfter ? { [branch]: tipAfter } : {}) },
  });
  const report: SyncReport = {
    remote: config.remote,
    defaultBranch: branch,
    pushed: [...pushed].sort(),
    rejected,
    diverged,
    notesMerged,
    sessions: {
      started: started.map(brief),
      ended: ended.map(brief),
      merged: mergedNow.map(brief),
    },
    protocol: {
      changed: protocolChanges(ctx, tipBefore, tipAfter),
      from: tipBefore ?? null,
      to: tipAfter ?? null,
    },
    gates,
    rebase: null,
  };
  if (options.rebase) report.rebase = await rebaseMine(ctx, branch, tracking);
  return report;
}

function offline(config: Config, outcome: NetworkOutcome & { ok: false }, fetched = false) {
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
function reconcile(ctx: Context, author: ReturnType<typeof authorFor>): Plan {
  const { records } = readRecords(ctx.repo, [SESSIONS, MIRRORED_SESSIONS]);
  const local = new Map<string, { commit: string; body: unknown }>();
  const remote = new Map<string, { commit: string; body: unknown }>();
  for (const r of records) {
    if (r.ref.startsWith(SESSIONS)) local.set(r.ref.slice(SESSIONS.length), r);
    else remote.set(r.ref.slice(MIRRORED_SESSIONS.length), r);
  }
  const plan: Plan = { push: [], considered: [], diverged: [] };
  for (const [id, mine] of local) {
    const ref = SESSIONS + id;
    const theirs = remote.get(id);
    if (!theirs) {
      plan.push.push(ref);
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
  for (const ref of refNames(ctx.repo, [LOCAL])) {
    // The lease table changes only through its own compare-and-swap (services/leases.ts).
    if (!ref || ref.startsWith(SESSIONS) || ref === LEASES_REF) continue;
    plan.considered.push(ref);
  }
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

function protocolChanges(ctx: Context, from: string | undefined, to: string | undefined): string[] {
  if (!from || !to || from === to || ctx.config.protocol.length === 0) return [];
  return filesBetween(ctx.repo, from, to).filter((f) => matchesAny(f, ctx.config.protocol));
}

/**
 * `sync --rebase`: rebases the current session's branch onto the default branch, in its
 * worktree. When that conflicts (or cannot start), everything is put back as it was.
 */
async function rebaseMine(ctx: Context, branchName: string, tracking: string): Promise<RebaseOutcome> {
  const session = findCurrentSession(ctx, { quiet: true });
  const branch = session?.branch ?? ctx.branch;
  const onto = sha(ctx, tracking) ? tracking : `refs/heads/${branchName}`;
  const result = (status: RebaseOutcome['status'], message: string, conflicts: string[] = []) => ({
    branch: branch ?? '',
    onto: onto.replace(/^refs\/(remotes|heads)\//, ''),
    status,
    conflicts,
    message,
  });
  if (!branch) return result('refused', 'There is no session branch checked out here to rebase.');
  if (branch === branchName)
    return result('refused', `You are on ${branchName} itself: there is nothing to rebase.`);
  const cwd = session && session.worktree !== ctx.repo.top ? session.worktree : ctx.repo.top;
  const checkedOut = checkedOutBranch(cwd);
  if (checkedOut !== branch)
    return result('refused', `${branch} is not checked out in ${cwd}; check it out to rebase it.`);
  if (await hasUncommittedChanges(cwd))
    return result('refused', 'The worktree has uncommitted changes: commit them first; nothing was rebased.');
  const base = sha(ctx, onto);
  const head = sha(ctx, `refs/heads/${branch}`);
  if (!base || !head) return result('refused', `Cannot find ${onto} to rebase onto.`);
  if (isAncestor(ctx.repo, base, head)) return result('up-to-date', `${branch} already contains ${onto}.`);
  const env = { CONSORTIUM_STARTING: '1' };
  const run = await rebaseOnto(cwd, onto, env);
  if (run.ok) return result('rebased', `Rebased ${branch} onto ${result('rebased', '').onto}.`);
  const conflicts = run.conflicts;
  return result(
    'conflict',
    `Rebasing ${branch} onto ${onto.replace(/^refs\/(remotes|heads)\//, '')} conflicts${conflicts.length ? ` in ${conflicts.join(', ')}` : ''}; it was aborted and everything is as it was.`,
    conflicts,
  );
}

/** What this clone knew at its last sync: the baseline of "what changed for me". */
interface LastSync {
  at: string;
  sessions: Record<string, string>;
  gates: string[];
  tips: Record<string, string>;
}

const lastSyncFile = (ctx: Context) => localStateFile(ctx.repo.commonDir, 'last-sync.json');

/** What the last sync here saw; none yet, or unreadable: measure from what is known. */
function readLastSync(ctx: Context): LastSync | undefined {
  const value = readJson<Partial<LastSync>>(lastSyncFile(ctx));
  return value &&
    typeof value.sessions === 'object' &&
    Array.isArray(value.gates) &&
    typeof value.tips === 'object'
    ? (value as LastSync)
    : undefined;
}

function writeLastSync(ctx: Context, value: LastSync): void {
  writeJson(lastSyncFile(ctx), value);
}
