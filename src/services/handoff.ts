import { gatesOf } from '../analysis/gates.js';
import type { Context } from '../context/context.js';
import { iso, now } from '../core/clock.js';
import { stringList } from '../core/local-state.js';
import { matchesAny } from '../core/patterns.js';
import { headCommit } from '../git/changes.js';
import { commitsBetween, countUnpushed, filesBetween } from '../git/history.js';
import { type HandoffFacts, renderHandoff, splitSummary } from '../render/handoff.js';
import { addNote, mergeFetchedNotes } from '../store/notes.js';
import { pushSettlingNotes } from '../store/notes-sharing.js';
import { NOTES_REF, sessionRef } from '../store/refs.js';
import { type NetworkOutcome, sharedOutcome } from '../store/remote.js';
import { type Session, updateSession } from '../store/sessions.js';
import { gatesView } from './gates.js';
import { authorFor, refreshSession, workOf } from './sessions.js';
import { coordinationView } from './view.js';

/**
 * Handoffs (SPEC section 8): the facts git knows about a session, plus what its agent or
 * person says, written as one Markdown document that the next session starts from. Stored in
 * the session record (extra.handoff) and as a note on the session's head commit.
 */
export interface StoredHandoff {
  at: string;
  head: string | null;
  markdown: string;
  summary: string;
  /** The steps given (absent in older records), so that a later handoff can keep them. */
  steps?: string[];
}

/**
 * What the caller says in a handoff. Handoffs build on each other: a summary replaces the
 * earlier summary and steps replace the earlier steps, each on its own; what is not replaced is
 * kept from the session's own last handoff (else `previous`, such as the handoff of the
 * conversation's earlier session), and the handoff says which it kept.
 */
export interface HandoffInput {
  summary: string;
  next: string[];
  ending?: boolean;
  note?: string;
  previous?: Handoff;
}

export interface Handoff extends StoredHandoff {
  session: string;
  researcher: string;
  branch: string | null;
}

export function handoffOf(session: Session): Handoff | undefined {
  const h = session.extra?.handoff as Partial<StoredHandoff> | undefined;
  if (!h || typeof h.markdown !== 'string' || typeof h.at !== 'string') return undefined;
  return {
    at: h.at,
    head: typeof h.head === 'string' ? h.head : null,
    markdown: h.markdown,
    summary: typeof h.summary === 'string' ? h.summary : '',
    steps: stringList(h.steps),
    session: session.id,
    researcher: session.researcher,
    branch: session.branch,
  };
}

/** The researcher's latest handoff, from any machine whose records reached here. */
export function latestHandoff(ctx: Context, researcher: string, except?: string): Handoff | undefined {
  let latest: Handoff | undefined;
  for (const s of ctx.sessions().sessions) {
    if (s.researcher !== researcher || s.id === except) continue;
    const h = handoffOf(s);
    if (h && (!latest || h.at > latest.at || (h.at === latest.at && h.session > latest.session))) latest = h;
  }
  return latest;
}

/** Gathers the facts of a session's handoff from git and the coordination state. */
export function handoffFacts(ctx: Context, session: Session, given: HandoffInput): HandoffFacts {
  const at = iso(now());
  const work = workOf(ctx, session);
  const head = work.head ?? session.head ?? headCommit(ctx.repo, session.worktree) ?? null;
  const start = session.startCommit;
  const commits: HandoffFacts['commits'] = [];
  let files: string[] = [];
  let unpushed = 0;
  if (head && start) {
    commits.push(...commitsBetween(ctx.repo, start, head));
    files = filesBetween(ctx.repo, start, head, true);
    unpushed = countUnpushed(ctx.repo, head, start, ctx.config.remote);
  }
  const protocolFiles = files.filter((f) => matchesAny(f, ctx.config.protocol));
  const view = coordinationView(ctx);
  const others = view.live.filter((s) => s.researcher !== session.researcher);
  const researchers = [...ctx.researchers.keys()].filter((r) => r !== session.researcher);
  const gates = gatesView(ctx);
  const mine = gatesOf(gates.gates, session.researcher);
  const touched = gates.events.filter(
    (e) =>
      e.session === session.id ||
      (e.by === session.researcher && e.at >= session.startedAt && e.at <= at && !e.session),
  );
  const leases = view.leases.filter((l) => l.session === session.id);
  const conflicts = view.conflicts.filter((c) => c.sessions.includes(session.id));
  const split = splitSummary(given.summary);
  const newSteps = [...split.steps, ...given.next];
  const earlier = handoffOf(session) ?? given.previous;
  const keepSummary = !!earlier && !split.summary.trim() && !!earlier.summary.trim();
  const keepSteps = !!earlier && newSteps.length === 0 && (earlier.steps ?? []).length > 0;
  const steps = keepSteps ? (earlier.steps ?? []) : newSteps;
  const derived: string[] = [];
  // Each conflict is told once, under Open conflicts; the step only points there.
  if (conflicts.length)
    derived.push(
      `Resolve the ${conflicts.length === 1 ? 'open conflict' : `${conflicts.length} open conflicts`} listed under Open conflicts and leases.`,
    );
  if (protocolFiles.length)
    derived.push(
      `Announce the protocol change (${protocolFiles.join(', ')}) to the other researchers before merging.`,
    );
  if (unpushed > 0)
    derived.push(
      `Push ${session.branch ? `branch ${session.branch}` : 'the work'}: ${unpushed} commit${unpushed === 1 ? '' : 's'} not on the remote.`,
    );
  for (const g of mine.owned)
    if (g.status === 'locked' && g.ready)
      derived.push(
        `${g.id} is ready: unlock it when its work is done (git consortium gates unlock ${g.id}).`,
      );
  if (leases.length)
    derived.push(`Release or hand on the leases held: ${leases.map((l) => l.pattern).join(', ')}.`);
  return {
    session: {
      id: session.id,
      researcher: session.researcher,
      name: ctx.researchers.get(session.researcher)?.name ?? null,
      branch: session.branch,
      worktree: session.worktree,
      host: session.host,
      intent: session.intent,
      startedAt: session.startedAt,
      endedAt: session.endedAt ?? (given.ending ? at : null),
      startCommit: start,
    },
    at,
    head,
    commits,
    files,
    unpushed,
    protocol: {
      files: protocolFiles,
      sessions: protocolFiles.length
        ? others.map((o) => ({
            id: o.id,
            researcher: o.researcher,
            alsoChanged: protocolFiles.filter(
              (f) => o.changedFiles.includes(f) || o.touchedFiles.includes(f),
            ),
          }))
        : [],
      researchers: protocolFiles.length ? researchers : [],
    },
    gates: {
      touched,
      unlocked: gates.gates.filter((g) => g.status === 'unlocked'),
      waiting: mine.owned.filter((g) => g.status === 'locked'),
      waitingOnMe: mine.waitingOnMe,
    },
    leases,
    conflicts,
    summary: keepSummary ? earlier.summary : split.summary,
    steps,
    keptFrom:
      earlier && (keepSummary || keepSteps)
        ? { session: earlier.session, at: earlier.at, summary: keepSummary, steps: keepSteps }
        : null,
    note: given.note ?? null,
    nextSteps: [...steps, ...derived.filter((d) => !steps.includes(d))],
  };
}

export interface Written {
  handoff: Handoff;
  facts: HandoffFacts;
  session: Session;
  /** The head commit now carries a note naming the session. */
  noted: boolean;
  shared: NetworkOutcome;
}

/** Writes the handoff of a session: in its record, and as a note on its head commit. */
export async function writeHandoff(ctx: Context, session: Session, given: HandoffInput): Promise<Written> {
  // The record's changed files as of now, so that conflicts and others' views are current.
  if (session.state === 'active') session = refreshSession(ctx, session, { force: true });
  const facts = handoffFacts(ctx, session, given);
  const markdown = renderHandoff(facts);
  const stored: StoredHandoff = {
    at: facts.at,
    head: facts.head,
    markdown,
    summary: facts.summary,
    steps: facts.steps,
  };
  const author = authorFor(ctx, session.researcher);
  const updated =
    updateSession(
      ctx.repo,
      session.id,
      'handoff',
      (record) => ({ ...record, extra: { ...record.extra, handoff: stored } }),
      author,
    ) ?? session;
  ctx.invalidate();
  let noted = false;
  if (facts.head) {
    // Our notes must hold the remote's (as last fetched) before ours go on top: pushing them
    // would otherwise replace the notes other machines wrote.
    mergeFetchedNotes(ctx.repo, author);
    noted = addNote(
      ctx.repo,
      facts.head,
      {
        type: 'handoff',
        at: facts.at,
        session: session.id,
        researcher: session.researcher,
        branch: session.branch,
        summary: facts.summary,
        markdown,
      },
      author,
    );
  }
  const pushed = await pushSettlingNotes(
    ctx.repo,
    ctx.config,
    [sessionRef(session.id), ...(noted ? [NOTES_REF] : [])],
    author,
  );
  return { handoff: handoffOf(updated)!, facts, session: updated, noted, shared: sharedOutcome(pushed) };
}
