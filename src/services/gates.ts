import {
  dependents,
  describeRefusal,
  type GateAction,
  type GateEvent,
  type GateStatus,
  gateStates,
  refusals,
} from '../analysis/gates.js';
import type { Context } from '../context/context.js';
import { findCurrentSession } from '../context/current-session.js';
import { iso, now } from '../core/clock.js';
import { refusal, usageError } from '../core/errors.js';
import { isGateId, shown } from '../core/ids.js';
import { localStateFile, readJson, writeJson } from '../core/local-state.js';
import { matchesAny } from '../core/patterns.js';
import { defaultBranch } from '../git/changes.js';
import { authoredCommits } from '../git/history.js';
import { resolveRef } from '../git/refs.js';
import { appendGateEvent, newEventId, readGateEvents } from '../store/gates.js';
import { type NetworkOutcome, pushRefs } from '../store/remote.js';
import { authorFor } from './sessions.js';

/**
 * The gates as every reader sees them (gates, orient, handoff, sync, audit): the declared
 * gates of the configuration with the state replayed from every recorded change.
 */
export interface GatesView {
  gates: GateStatus[];
  events: GateEvent[];
}

export function gatesView(ctx: Context): GatesView {
  const log = gateLog(ctx);
  return { gates: gateStates(ctx.config.gates, log.events), events: log.events };
}

/** The gate events, read once per command (orient needs them twice); a write forgets them. */
const logs = new WeakMap<Context, ReturnType<typeof readGateEvents>>();
function gateLog(ctx: Context) {
  let log = logs.get(ctx);
  if (!log) {
    log = readGateEvents(ctx.repo);
    for (const problem of log.problems) process.stderr.write(`warning: ${problem}\n`);
    logs.set(ctx, log);
  }
  return log;
}

export interface GateChange {
  gate: GateStatus;
  /** Undefined when nothing had to change (already in that state). */
  event?: GateEvent;
  /** Gates that need this one and are unlocked (a reopen leaves them standing on nothing). */
  standing: string[];
  shared: NetworkOutcome;
}

/**
 * Unlocks or reopens a gate for `researcher`. Only the owner may, and unlocking needs every
 * required gate unlocked; `force` overrides either rule and the event says which it broke.
 */
export async function changeGate(
  ctx: Context,
  options: { gate: string; action: GateAction; researcher: string; note?: string; force: boolean },
): Promise<GateChange> {
  if (!isGateId(options.gate) || !ctx.config.gates.has(options.gate)) {
    const known = [...ctx.config.gates.keys()];
    throw usageError(
      `There is no gate ${shown(options.gate)}` +
        (known.length ? ` (gates: ${known.join(', ')}).` : ': the configuration declares none.'),
    );
  }
  const before = gatesView(ctx).gates;
  const gate = before.find((g) => g.id === options.gate)!;
  const target = options.action === 'unlock' ? 'unlocked' : 'locked';
  if (gate.status === target) return { gate, standing: [], shared: { ok: true } };
  const reasons = refusals(gate, options.researcher, options.action);
  if (reasons.length && !options.force) {
    throw refusal(
      `${describeRefusal(gate, options.researcher, options.action, reasons)} Nothing was changed; --force overrides, and is recorded.`,
    );
  }
  // Like a Lamport clock: a change made after seeing the gate's last change sorts after it,
  // even when that change came from a machine whose clock runs ahead of ours.
  const seen = gate.history.at(-1)?.at;
  const at = iso(new Date(Math.max(now().getTime(), seen ? Date.parse(seen) + 1 : 0)));
  const session = findCurrentSession(ctx, { quiet: true });
  const event: GateEvent = {
    id: newEventId(at),
    gate: gate.id,
    action: options.action,
    by: options.researcher,
    at,
    note: options.note ?? null,
    forced: reasons.length > 0,
    overrode: reasons,
    session: session && session.researcher === options.researcher ? session.id : null,
  };
  const { ref } = appendGateEvent(ctx.repo, event, authorFor(ctx, options.researcher));
  logs.delete(ctx);
  const pushed = await pushRefs(ctx.repo, ctx.config, [ref]);
  const after = gatesView(ctx).gates;
  const standing =
    options.action === 'reopen'
      ? dependents(ctx.config.gates, gate.id).filter(
          (id) => after.find((g) => g.id === id)?.status === 'unlocked',
        )
      : [];
  return {
    gate: after.find((g) => g.id === gate.id)!,
    event,
    standing,
    shared: pushed.outcome,
  };
}

/** A gate event as one line for people. */
export function gateEventLine(e: GateEvent): string {
  const what = e.action === 'unlock' ? 'unlocked' : 'reopened';
  return `${e.gate} ${what} by ${e.by} at ${e.at}${e.forced ? ' (forced)' : ''}${e.note ? `: ${e.note}` : ''}`;
}

/*
 * Since my last look. orient (and sync) remember, per researcher and per clone, what they
 * last showed: the gate events seen, the default branch's tip, and the protocol files each
 * session of another researcher had changed. Alerts are what is new against that, so they
 * are exact even when machines' clocks disagree or changes arrive late through a sync.
 * Kept in <git common dir>/consortium/last-look.json: local to this clone, never shared.
 */
export interface Look {
  at: string;
  gates: string[];
  tip: string | null;
  sessions: Record<string, string[]>;
}

export interface Alert {
  kind: 'gate' | 'protocol';
  message: string;
  at: string | null;
  by: string | null;
  gate?: string;
  action?: string;
  files?: string[];
  session?: string;
  commit?: string;
}

const lookFile = (ctx: Context) => localStateFile(ctx.repo.commonDir, 'last-look.json');

function readLooks(ctx: Context): Record<string, Look> {
  const parsed = readJson<Record<string, Look>>(lookFile(ctx));
  return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
}

export function lastLook(ctx: Context, researcher: string): Look | undefined {
  const look = readLooks(ctx)[researcher];
  if (!look || typeof look !== 'object' || !Array.isArray(look.gates)) return undefined;
  return {
    at: typeof look.at === 'string' ? look.at : '',
    gates: look.gates.filter((g) => typeof g === 'string'),
    tip: typeof look.tip === 'string' ? look.tip : null,
    sessions: look.sessions && typeof look.sessions === 'object' ? look.sessions : {},
  };
}

interface Seen {
  gates: GateEvent[];
  tip: string | null;
  sessions: Record<string, string[]>;
}

function seenNow(ctx: Context, researcher: string): Seen {
  const tip = defaultBranch(ctx.repo, ctx.config).ref;
  const sha = (tip && resolveRef(ctx.repo, tip)) || '';
  const sessions: Record<string, string[]> = {};
  if (ctx.config.protocol.length)
    for (const s of ctx.sessions().sessions) {
      if (s.researcher === researcher) continue;
      const files = [...new Set([...s.changedFiles, ...s.touchedFiles])].filter((f) =>
        matchesAny(f, ctx.config.protocol),
      );
      if (files.length) sessions[s.id] = files.sort();
    }
  return { gates: gateLog(ctx).events, tip: sha || null, sessions };
}

/** Records that `researcher` has now seen everything known here. */
export function markLooked(ctx: Context, researcher: string, seen: Seen = seenNow(ctx, researcher)): void {
  const file = lookFile(ctx);
  const looks = readLooks(ctx);
  looks[researcher] = {
    at: iso(now()),
    gates: seen.gates.map((e) => e.id),
    tip: seen.tip,
    sessions: seen.sessions,
  };
  // Not writable: alerts then repeat next time, better than failing the command that looked.
  writeJson(file, looks);
}

/**
 * What changed for `researcher` since their last look here: gates unlocked or reopened by
 * others, protocol files changed by others' sessions, protocol changes that reached the
 * default branch. `mark` records the look.
 */
export function alertsSinceLastLook(ctx: Context, researcher: string, mark: boolean): Alert[] {
  const look = lastLook(ctx, researcher);
  const seen = seenNow(ctx, researcher);
  const alerts: Alert[] = [];
  const seenGates = new Set(look?.gates ?? []);
  for (const e of seen.gates) {
    if (seenGates.has(e.id) || e.by === researcher || !ctx.config.gates.has(e.gate)) continue;
    alerts.push({
      kind: 'gate',
      message: gateEventLine(e),
      at: e.at,
      by: e.by,
      gate: e.gate,
      action: e.action,
    });
  }
  const byId = new Map(ctx.sessions().sessions.map((s) => [s.id, s]));
  for (const [id, files] of Object.entries(seen.sessions)) {
    const before = new Set(look?.sessions[id] ?? []);
    const fresh = files.filter((f) => !before.has(f));
    const s = byId.get(id);
    if (!fresh.length || !s) continue;
    // A first look reports only what is still in progress; ended work shows through the branch.
    if (!look && s.state !== 'active') continue;
    alerts.push({
      kind: 'protocol',
      message: `${s.researcher} (session ${id}, ${s.state}) changed protocol file${fresh.length === 1 ? '' : 's'} ${fresh.join(', ')}.`,
      at: s.heartbeatAt,
      by: s.researcher,
      files: fresh,
      session: id,
    });
  }
  if (look?.tip && seen.tip && look.tip !== seen.tip && ctx.config.protocol.length)
    alerts.push(...protocolCommits(ctx, look.tip, seen.tip));
  if (mark) markLooked(ctx, researcher, seen);
  return alerts;
}

/** Commits that reached the default branch between two tips and changed protocol files, by others. */
function protocolCommits(ctx: Context, from: string, to: string): Alert[] {
  const mine = ctx.userEmail;
  const alerts: Alert[] = [];
  for (const { sha, name, email, at, subject, files: names } of authoredCommits(ctx.repo, from, to)) {
    if (!sha || email === mine) continue;
    const files = names.filter((f) => f && matchesAny(f, ctx.config.protocol));
    if (!files.length) continue;
    alerts.push({
      kind: 'protocol',
      message: `${name} changed protocol file${files.length === 1 ? '' : 's'} ${files.join(', ')} on the default branch (${sha.slice(0, 10)} ${subject}).`,
      at: at ?? null,
      by: name ?? null,
      files,
      commit: sha,
    });
  }
  return alerts;
}
