import { blocking, type PushConflict } from '../analysis/push.js';
import type { OverrideUsed, PushCheck, WayOut } from '../services/push-check.js';

/**
 * The pre-push gate's verdict as the pusher reads it on a terminal: one block per conflict, then
 * what to do. A person is told how to push anyway; an agent is told to ask a person (no recipe).
 */
export function gateReport(check: PushCheck, options: { override?: OverrideUsed; way: WayOut }): string[] {
  const lines: string[] = [];
  if (check.offline && check.offline.action !== 'off') {
    lines.push(
      `git-consortium: could not read the coordination state from the remote (${check.offline.detail}); ` +
        (check.offline.action === 'block'
          ? 'policy.offline is block, so the push stops here.'
          : 'checked against what is known here.'),
    );
  }
  const blockers = blocking(check.conflicts);
  const warnings = check.conflicts.filter((c) => c.action === 'warn');
  for (const c of warnings) lines.push(`git-consortium: warning: ${c.kind}: ${c.message}`);
  if (!check.blocked) return lines;
  const { override, way } = options;
  if (override) {
    const who = override.actor === 'agent' ? 'an agent' : 'a person';
    const approved = override.approvedBy ? `, approved by ${override.approvedBy}` : '';
    lines.push(
      `git-consortium: pushing despite ${blockers.length || 'the'} blocking conflict${blockers.length === 1 ? '' : 's'}: ` +
        `override recorded (by ${who}${approved}: ${JSON.stringify(override.reason)}).`,
    );
    return lines;
  }
  lines.push('');
  lines.push(
    `git-consortium: push blocked by ${blockers.length || 'the coordination state'}${blockers.length ? ` conflict${blockers.length === 1 ? '' : 's'}` : ''} with other live work:`,
  );
  for (const c of blockers) {
    lines.push('');
    lines.push(`  ${c.severity.toUpperCase()} ${c.kind}: ${c.paths.join(', ')}`);
    for (const w of c.with) {
      lines.push(
        `    ${w.researcher}${w.session ? `, session ${w.session}` : ''}${w.branch ? `, branch ${w.branch}` : ''}`,
      );
    }
    lines.push(`    ${c.message}`);
  }
  lines.push('');
  if (way.kind === 'person') {
    lines.push(...askAPerson(blockers, way));
    lines.push('');
    return lines;
  }
  lines.push(
    'To resolve: agree with the researchers named above (git consortium status shows their sessions);',
  );
  lines.push('merge their branch into yours first (their work is then part of your push), or wait until');
  lines.push(
    'their session is merged or ended. To push anyway, say why; it is recorded as a note for everyone:',
  );
  lines.push(`  CONSORTIUM_OVERRIDE="<reason>" ${way.command}`);
  lines.push('');
  return lines;
}

/** What an agent is told when it may not push past the gate: stop, and what to ask a person. */
export function askAPerson(blockers: PushConflict[], way: Extract<WayOut, { kind: 'person' }>): string[] {
  const what = blockers
    .map((c) => {
      const whose = [
        ...new Set(c.with.map((w) => (w.session ? `${w.researcher}'s session ${w.session}` : w.researcher))),
      ];
      return `${c.kind} on ${c.paths.join(', ')}${whose.length ? ` (${whose.join(', ')})` : ''}`;
    })
    .join('; ');
  const decide =
    way.policy === 'ask'
      ? `If it should, they approve it in their own terminal (git consortium help approve explains how)${way.session ? ` for session ${way.session}` : ''}, and you push again.`
      : 'If it should, they push it themselves, from their own terminal.';
  return [
    `git-consortium: this push runs under an agent (${way.agent}), and policy.agentOverride is ${way.policy}: an agent may not push past the gate.`,
    'Stop here and ask a person to decide. Tell them:',
    `  "My push of ${way.branch} is blocked by ${what || 'the coordination state'}. Should it land anyway?"`,
    decide,
  ];
}
