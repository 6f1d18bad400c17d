import { workOfSession } from '../analysis/conflicts.js';
import type { Orientation } from '../services/orientation.js';
import type { SessionView } from '../services/view.js';
import type { Session } from '../store/sessions.js';
import { relative } from './glance.js';

/**
 * The orientation a Claude Code conversation starts with (SessionStart's additionalContext),
 * from the same data as orient and the MCP orient tool: who the agent works for, its session,
 * the others at work, leases and alerts, and the latest handoff. Plain text: it goes into the
 * model's context as it is.
 */
export interface AgentOrientationInput {
  session?: Session;
  /** What SessionStart did: registered, resumed, joined, ... (one sentence). */
  action: string;
  /** The handoff to continue from, already rendered (after a compaction, the session's own). */
  handoff?: { text: string; session: string; at?: string };
  warnings: string[];
  protocol: string[];
  nowMs: number;
}

const MAX_OTHERS = 12;

export function agentOrientation(o: Orientation, input: AgentOrientationInput): string {
  const { me } = o;
  const researcher = o.identity.id;
  const who = me?.name ? `${me.name} (${researcher})` : researcher;
  const lines: string[] = [];
  lines.push(`git-consortium: you are working for ${who}${me?.role ? `, ${me.role}` : ''}.`);
  lines.push(input.action);
  lines.push(
    `Workspace: ${o.workspace}/. Files in other researchers' workspaces and protocol files` +
      `${input.protocol.length ? ` (${input.protocol.join(', ')})` : ''} affect others: coordinate before changing them.`,
  );
  for (const w of input.warnings) lines.push(`Warning: ${w}`);
  if (me?.context && o.context) lines.push('', `From ${me.context}:`, o.context.replace(/^/gm, '  '));
  if (o.gates.length) {
    const { my } = o;
    const gate = (g: (typeof o.gates)[number]) =>
      `${g.id}${g.title ? ` (${g.title})` : ''} ${g.status}${g.status === 'locked' ? (g.ready ? ', ready to unlock' : `, waits on ${g.missing.join(', ')}`) : ''}`;
    lines.push('');
    lines.push(`Your gates: ${my.owned.length ? my.owned.map(gate).join('; ') : 'none'}.`);
    if (my.waitingOn.length)
      lines.push(`You wait on: ${my.waitingOn.map((g) => `${gate(g)} (owner ${g.owner})`).join('; ')}.`);
    if (my.waitingOnMe.length)
      lines.push(`Others wait on your gates: ${my.waitingOnMe.map((g) => g.id).join(', ')}.`);
  }
  const mine = input.session?.id;
  const others = o.view.live.filter((s) => s.id !== mine);
  lines.push('', `Other active sessions (${others.length}):`);
  if (others.length === 0) lines.push('  none');
  for (const s of others.slice(0, MAX_OTHERS)) lines.push(`  ${sessionSummary(s, input.nowMs)}`);
  if (others.length > MAX_OTHERS)
    lines.push(`  ... and ${others.length - MAX_OTHERS} more (git consortium status)`);
  const leases = o.view.leases.filter((l) => l.session !== mine);
  if (leases.length) {
    lines.push('', 'Files leased by other sessions (an edit of these is refused; ask the holder):');
    for (const l of leases)
      lines.push(
        `  ${l.pattern}: ${l.researcher}, session ${l.session}, until ${l.expiresAt}${l.reason ? ` (${l.reason})` : ''}`,
      );
  }
  if (o.conflicts.length || o.news.length) {
    lines.push('', 'Alerts:');
    for (const a of o.news) lines.push(`  ${a.message}`);
    for (const a of o.conflicts) lines.push(`  [${a.severity}] ${a.message}`);
  }
  if (input.handoff) {
    lines.push(
      '',
      `Latest handoff (session ${input.handoff.session}${input.handoff.at ? `, ${input.handoff.at}` : ''}): continue from it.`,
      input.handoff.text.trim(),
    );
  }
  lines.push(
    '',
    'git consortium status shows everyone at work; git consortium lease acquire PATH reserves a file; ' +
      'git consortium handoff writes a handoff of your work (one is written for you before a compaction).',
  );
  return lines.join('\n');
}

function sessionSummary(s: SessionView, nowMs: number): string {
  const work = workOfSession(s);
  const files = work.length
    ? `; changed ${work.slice(0, 6).join(', ')}${work.length > 6 ? `, +${work.length - 6}` : ''}`
    : '';
  const intent = s.intent ? ` "${s.intent}"` : '';
  return `${s.researcher}: session ${s.id} on ${s.branch ?? '(detached)'}${intent}, heartbeat ${relative(s.heartbeatAt, nowMs)}${files}`;
}
