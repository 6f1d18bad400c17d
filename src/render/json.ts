import type { GateStatus } from '../analysis/gates.js';
import { blockedBy } from '../analysis/gates.js';
import { spanPair } from '../analysis/lines.js';
import type { PushConflict } from '../analysis/push.js';
import type { Caller } from '../core/remedies.js';
import type { EditVerdict } from '../services/edit-check.js';
import type { Handoff } from '../services/handoff.js';
import type { LineMeeting } from '../services/line-check.js';
import type { Orientation } from '../services/orientation.js';
import type { SessionView } from '../services/view.js';
import { withRemedies } from './remedies.js';

/**
 * The JSON projections of our `--json` outputs (SPEC section 6), in one place: each entry
 * point prints, and the MCP server returns, exactly these shapes. A new field goes here.
 */

export function sessionJson(s: SessionView) {
  return {
    id: s.id,
    researcher: s.researcher,
    branch: s.branch,
    worktree: s.worktree,
    host: s.host,
    state: s.effectiveState,
    intent: s.intent,
    startedAt: s.startedAt,
    heartbeatAt: s.heartbeatAt,
    endedAt: s.endedAt,
    agent: s.agent,
    /** A Claude Code conversation working in a person's session now, if any. */
    conversation: s.conversation ?? null,
    user: s.user,
    email: s.email,
    shared: s.shared,
    startCommit: s.startCommit,
    head: s.head,
    changedFiles: s.changedFiles,
    touchedFiles: s.touchedFiles,
    leases: s.leases,
  };
}

export function gateJson(g: GateStatus) {
  return {
    id: g.id,
    title: g.title,
    owner: g.owner,
    requires: g.requires,
    unlocks: g.unlocks,
    status: g.status,
    ready: g.ready,
    missing: g.missing,
    history: g.history,
  };
}

export function handoffJson(h: Handoff) {
  return {
    session: h.session,
    researcher: h.researcher,
    branch: h.branch,
    at: h.at,
    head: h.head,
    summary: h.summary,
    markdown: h.markdown,
  };
}

/** The conflicts as JSON (SPEC section 6 `check --json`), with the gate's action added. */
export function conflictJson(c: PushConflict) {
  return {
    kind: c.kind,
    severity: c.severity,
    action: c.action,
    paths: c.paths,
    sessions: c.sessions,
    researchers: c.researchers,
    with: c.with,
    message: c.message,
    ...(c.lines ? { lines: c.lines } : {}),
  };
}

/** `orient --json` (SPEC section 6). */
export function orientationJson(o: Orientation) {
  const { identity, me, my, gates } = o;
  return {
    researcher: identity.id,
    source: identity.source,
    name: me?.name ?? null,
    role: me?.role ?? null,
    workspace: o.workspace,
    context: me?.context ? { file: me.context, excerpt: o.context ?? null } : null,
    gates: {
      owned: my.owned.map(brief),
      waitingOn: my.waitingOn.map(brief),
      waitingOnMe: my.waitingOnMe.map((g) => ({ ...brief(g), neededBy: blockedBy(gates, g.id) })),
    },
    sessions: { mine: o.mine.map(sessionJson), others: o.others.map(sessionJson) },
    handoff: o.handoff ? handoffJson(o.handoff) : null,
    alerts: [
      ...o.news,
      ...o.conflicts.map((c) => ({
        kind: c.kind,
        severity: c.severity,
        message: c.message,
        sessions: c.sessions,
        paths: c.paths,
      })),
    ],
  };
}

/** A gate as orient shows it: its last change only (gates --json has the whole history). */
function brief(g: GateStatus) {
  const { history, ...rest } = gateJson(g);
  return { ...rest, last: history.at(-1) ?? null };
}

/** MCP `may_edit`: the verdict, each reason worded for the caller with its way out. */
export function editVerdictJson(v: EditVerdict, caller: Caller) {
  return {
    path: v.path,
    decision: v.decision,
    allowed: v.allowed,
    session: v.session,
    researcher: v.researcher,
    reasons: v.reasons.map((r) => ({
      kind: r.kind,
      action: r.action,
      sessions: r.sessions,
      researchers: r.researchers,
      message: withRemedies(r.facts, r.remedies, caller),
      ...(r.meetings ? { lines: r.meetings.map(lineMeetingJson) } : {}),
    })),
  };
}

/** A meeting of my lines with another session's (may_edit, check --lines): ranges as `[first, last]`. */
export function lineMeetingJson(m: LineMeeting) {
  return {
    path: m.path,
    theirPath: m.theirPath,
    session: m.session,
    researcher: m.researcher,
    branch: m.branch,
    status: m.status,
    mine: m.mine.map(spanPair),
    theirs: m.theirs.map((t) => spanPair(t.span)),
    theirLines: m.theirs.map((t) => spanPair(t.their)),
    excerpts: m.theirs.map((t) => t.excerpt),
  };
}
