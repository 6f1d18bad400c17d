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
import { agentEnvironment } from '../core/agent.js';
import { iso, now } from '../core/clock.js';
import { refusal, usageError } from '../core/errors.js';
import { isGateId, shown } from '../core/ids.js';
import { writeTo } from '../core/stdio.js';
import { appendGateEvent, newEventId, readGateEvents, undoGateEvent } from '../store/gates.js';
import { type NetworkOutcome, pushRefs, sharedOutcome } from '../store/remote.js';
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
    for (const problem of log.problems) writeTo(2, `warning: ${problem}\n`);
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
  // Overriding the gates' rules is a person's decision: under an agent, no --force, and no word of it.
  const agent = agentEnvironment();
  if (reasons.length && (!options.force || agent)) {
    const refused = `${describeRefusal(gate, options.researcher, options.action, reasons)} Nothing was changed.`;
    throw agent
      ? refusal(
          `${refused} Overriding a gate's rules is a person's decision (this runs under ${agent.name}).`,
          [{ kind: 'ask-person' }],
        )
      : refusal(`${refused} --force overrides, and is recorded.`);
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
  const appended = appendGateEvent(ctx.repo, event, authorFor(ctx, options.researcher));
  logs.delete(ctx);
  const pushed = await pushRefs(ctx.repo, ctx.config, [appended.ref]);
  // A change the server's gate refused is no change: taken back here too, so no clone shows it.
  const refused = pushed.refused.length > 0 && undoGateEvent(ctx.repo, appended);
  if (refused) logs.delete(ctx);
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
    shared: sharedOutcome(pushed, refused ? 'The change is taken back here as well.' : undefined),
  };
}

/** A gate event as one line for people. */
export function gateEventLine(e: GateEvent): string {
  const what = e.action === 'unlock' ? 'unlocked' : 'reopened';
  return `${e.gate} ${what} by ${e.by} at ${e.at}${e.forced ? ' (forced)' : ''}${e.note ? `: ${e.note}` : ''}`;
}
