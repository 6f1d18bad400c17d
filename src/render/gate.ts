import { blocking, type PushConflict } from '../analysis/push.js';
import type { Colors } from '../core/output.js';
import type { OverrideUsed, PushCheck, WayOut } from '../services/push-check.js';
import { until } from './glance.js';

/**
 * The pre-push gate's verdict as the pusher reads it, `check` as well: the verdict first (in
 * colour on a terminal), one line per conflict naming its files once, whose session and how
 * long a lease lasts, then the way out. A person is told how to push anyway; an agent is told
 * to ask a person, and shown no recipe.
 */
export interface GateWords {
  override?: OverrideUsed;
  way: WayOut;
  c: Colors;
  /** A session id as people read it (Context.shortId). */
  short: (id: string) => string;
  nowMs: number;
  /** `check` says what the push would meet; the gate, what it met. */
  mode?: 'push' | 'check';
  /** Who speaks: the clients' gate, or the server's (`git-consortium server`). */
  speaker?: string;
}

export function gateReport(check: PushCheck, words: GateWords): string[] {
  const { override, way, c, mode = 'push', speaker = 'git-consortium' } = words;
  const lines: string[] = [];
  if (check.offline && check.offline.action !== 'off') {
    const budget = check.offline.kind === 'budget';
    lines.push(
      (budget
        ? `${speaker}: the check ran out of time (${check.offline.detail}); `
        : `${speaker}: could not read the coordination state from the remote (${check.offline.detail}); `) +
        (check.offline.action === 'block'
          ? budget
            ? 'the push stops here: policy.offline is block, or the push runs under an agent.'
            : 'policy.offline is block, so the push stops here.'
          : budget
            ? 'policy.offline lets the rest through unchecked.'
            : 'checked against what is known here.'),
    );
  }
  const blockers = blocking(check.conflicts);
  for (const x of check.conflicts.filter((x) => x.action === 'warn'))
    lines.push(`${speaker}: ${c.yellow('warning')}: ${conflictLine(x, words)}`);
  if (!check.blocked) return lines;
  const n = blockers.length;
  const counted = n ? `${n} conflict${n === 1 ? '' : 's'} with others' live work` : 'the coordination state';
  if (override) {
    const who = override.actor === 'agent' ? 'an agent' : 'a person';
    const approved = override.approvedBy ? `, approved by ${override.approvedBy}` : '';
    lines.push(
      `${speaker}: pushing despite ${counted}: override recorded (by ${who}${approved}: ${JSON.stringify(override.reason)}).`,
    );
    return lines;
  }
  const verdict = mode === 'push' ? 'push blocked' : 'this push would be blocked';
  lines.push(`${c.bold(c.red(`${speaker}: ${verdict}`))} by ${counted}:`);
  for (const x of blockers) lines.push(`  ${conflictLine(x, words)}`);
  if (way.kind === 'person') lines.push(...askAPerson(blockers, way, words.short));
  else if (way.kind === 'server') {
    // The server cannot tell a person from an agent: no recipe here, only where a person finds one.
    lines.push(
      `${speaker}: agree with them first (git consortium status shows their sessions): merge their branch into yours, or wait for their session to end.`,
      `${speaker}: this is the server's gate, which holds without client hooks. A person may decide that the push lands anyway, and is recorded with their name; an agent stops here and asks a person.`,
    );
  } else {
    lines.push(
      'Agree with them first (git consortium status shows their sessions): merge their branch into yours, or wait for their session to end.',
    );
    lines.push(
      `To push anyway, say why; it is recorded for everyone: CONSORTIUM_OVERRIDE="<reason>" ${way.command}`,
    );
  }
  return lines;
}

/** One conflict in a line: how bad, what kind, its files (once), and whose work it meets. */
function conflictLine(x: PushConflict, words: GateWords): string {
  const { c, short, nowMs } = words;
  const tag =
    x.severity === 'high' ? c.red('HIGH') : x.severity === 'medium' ? c.yellow('MEDIUM') : c.dim('LOW');
  const files =
    x.paths.length <= 3
      ? x.paths.join(', ')
      : `${x.paths.slice(0, 3).join(', ')} and ${x.paths.length - 3} more`;
  const whose = x.with.map((w) => {
    const session = w.session ? ` ${short(w.session)}` : '';
    const lease = w.leaseUntil ? `, leased ${until(w.leaseUntil, nowMs)}` : '';
    const branch = !w.leaseUntil && w.branch ? ` on ${w.branch}` : '';
    return `${w.researcher}${session}${branch}${lease}`;
  });
  const met =
    x.kind === 'foreign'
      ? `in ${[...new Set(x.with.map((w) => w.researcher))].map((r) => `${r}'s`).join(', ')} workspace`
      : `${x.kind === 'lease' ? 'held by' : 'also changed by'} ${whose.join('; ') || 'another session'}`;
  return `${tag} ${x.kind} ${c.bold(files)}: ${met}`;
}

/** What an agent is told when it may not push past the gate: stop, and what to ask a person. */
export function askAPerson(
  blockers: PushConflict[],
  way: Extract<WayOut, { kind: 'person' }>,
  short: (id: string) => string = (id) => id,
): string[] {
  const what = blockers
    .map((c) => {
      const whose = [
        ...new Set(
          c.with.map((w) => (w.session ? `${w.researcher}'s session ${short(w.session)}` : w.researcher)),
        ),
      ];
      return `${c.kind} on ${c.paths.join(', ')}${whose.length ? ` (${whose.join(', ')})` : ''}`;
    })
    .join('; ');
  const decide =
    way.policy === 'ask'
      ? `If it should, they approve it in their own terminal (git consortium help approve explains how)${way.session ? ` for session ${short(way.session)}` : ''}, and you push again.`
      : 'If it should, they push it themselves, from their own terminal.';
  return [
    `git-consortium: this push runs under an agent (${way.agent}), and policy.agentOverride is ${way.policy}: an agent may not push past the gate.`,
    `Stop here and ask a person to decide. Tell them: "My push of ${way.branch} is blocked by ${what || 'the coordination state'}. Should it land anyway?"`,
    decide,
  ];
}
