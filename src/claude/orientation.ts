import { readFileSync } from 'node:fs';
import path from 'node:path';
import { workOfSession } from '../analysis/conflicts.js';
import { gatesOf } from '../analysis/gates.js';
import type { Context } from '../context/context.js';
import { ago } from '../render/text.js';
import { alertsSinceLastLook, gatesView } from '../services/gates.js';
import type { CoordinationView, SessionView } from '../services/view.js';
import type { Session } from '../store/sessions.js';

/**
 * The orientation a Claude Code conversation starts with (SessionStart's additionalContext):
 * who the agent works for, its session, the others at work, leases and alerts, and the latest
 * handoff. Plain text: it goes into the model's context as it is.
 */
export interface OrientationInput {
  researcher: string;
  session?: Session;
  /** What SessionStart did: registered, resumed, adopted, ... (one sentence). */
  action: string;
  view: CoordinationView;
  /** The latest handoff, already rendered. */
  handoff?: { text: string; session: string; at?: string };
  warnings: string[];
}

const MAX_CONTEXT_LINES = 12;
const MAX_OTHERS = 12;

export function orientationText(ctx: Context, input: OrientationInput): string {
  const me = ctx.researchers.get(input.researcher);
  const who = me?.name ? `${me.name} (${input.researcher})` : input.researcher;
  const lines: string[] = [];
  lines.push(`git-consortium: you are working for ${who}${me?.role ? `, ${me.role}` : ''}.`);
  lines.push(input.action);
  const workspace = me?.workspace ?? ctx.config.workspaces.replace('*', input.researcher);
  lines.push(
    `Workspace: ${workspace}/. Files in other researchers' workspaces and protocol files` +
      `${ctx.config.protocol.length ? ` (${ctx.config.protocol.join(', ')})` : ''} affect others: coordinate before changing them.`,
  );
  for (const w of input.warnings) lines.push(`Warning: ${w}`);
  if (me?.context) {
    const excerpt = excerptOf(path.join(ctx.repo.top, me.context));
    if (excerpt) lines.push('', `From ${me.context}:`, excerpt);
  }
  const { gates } = gatesView(ctx);
  if (gates.length) {
    const my = gatesOf(gates, input.researcher);
    const gate = (g: (typeof gates)[number]) =>
      `${g.id}${g.title ? ` (${g.title})` : ''} ${g.status}${g.status === 'locked' ? (g.ready ? ', ready to unlock' : `, waits on ${g.missing.join(', ')}`) : ''}`;
    lines.push('');
    lines.push(`Your gates: ${my.owned.length ? my.owned.map(gate).join('; ') : 'none'}.`);
    if (my.waitingOn.length)
      lines.push(`You wait on: ${my.waitingOn.map((g) => `${gate(g)} (owner ${g.owner})`).join('; ')}.`);
    if (my.waitingOnMe.length)
      lines.push(`Others wait on your gates: ${my.waitingOnMe.map((g) => g.id).join(', ')}.`);
  }
  const mine = input.session?.id;
  const others = input.view.live.filter((s) => s.id !== mine);
  lines.push('', `Other active sessions (${others.length}):`);
  if (others.length === 0) lines.push('  none');
  for (const s of others.slice(0, MAX_OTHERS)) lines.push(`  ${sessionSummary(s, ctx.nowMs)}`);
  if (others.length > MAX_OTHERS)
    lines.push(`  ... and ${others.length - MAX_OTHERS} more (git consortium status)`);
  const leases = input.view.leases.filter((l) => l.session !== mine);
  if (leases.length) {
    lines.push('', 'Files leased by other sessions (an edit of these is refused; ask the holder):');
    for (const l of leases)
      lines.push(
        `  ${l.pattern}: ${l.researcher}, session ${l.session}, until ${l.expiresAt}${l.reason ? ` (${l.reason})` : ''}`,
      );
  }
  // Read without marking them seen: the researcher's own `orient` still shows them.
  const news = alertsSinceLastLook(ctx, input.researcher, false);
  const alerts = input.view.conflicts.filter((c) => c.researchers.includes(input.researcher));
  if (alerts.length || news.length) {
    lines.push('', 'Alerts:');
    for (const a of news) lines.push(`  ${a.message}`);
    for (const a of alerts) lines.push(`  [${a.severity}] ${a.message}`);
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
  return `${s.researcher}: session ${s.id} on ${s.branch ?? '(detached)'}${intent}, heartbeat ${ago(s.heartbeatAt, nowMs)}${files}`;
}

function excerptOf(file: string): string | undefined {
  try {
    const all = readFileSync(file, 'utf8').trimEnd().split('\n');
    const shown = all.slice(0, MAX_CONTEXT_LINES).map((l) => `  ${l}`);
    return shown.join('\n') + (all.length > MAX_CONTEXT_LINES ? '\n  ...' : '');
  } catch {
    return undefined;
  }
}
