import type { Conflict } from '../analysis/conflicts.js';
import type { Colors } from '../core/output.js';
import type { SessionView } from '../services/view.js';
import { relative } from './glance.js';

/** How sessions and conflicts read on a terminal, the same in every command. */

export function sessionLine(s: SessionView, nowMs: number, c: Colors): string {
  const state =
    s.effectiveState === 'active'
      ? c.green(s.effectiveState)
      : s.effectiveState === 'stale'
        ? c.yellow(s.effectiveState)
        : c.dim(s.effectiveState);
  const agent =
    s.agent.kind === 'claude-code'
      ? 'claude-code'
      : s.conversation
        ? 'human, with a claude-code conversation'
        : 'human';
  const parts = [
    `${c.bold(s.researcher)}  ${s.id}  ${state}`,
    `    branch ${s.branch ?? '(detached)'}  on ${s.host}:${s.worktree}  (${agent}, heartbeat ${relative(s.heartbeatAt, nowMs)})`,
  ];
  if (s.intent) parts.push(`    intent: ${s.intent}`);
  if (s.changedFiles.length) parts.push(`    changed: ${list(s.changedFiles)}`);
  if (s.leases.length) parts.push(`    leases: ${s.leases.join(', ')}`);
  return parts.join('\n');
}

export function conflictLine(conflict: Conflict, c: Colors): string {
  const tag =
    conflict.severity === 'high'
      ? c.red('HIGH')
      : conflict.severity === 'medium'
        ? c.yellow('MEDIUM')
        : c.dim('LOW');
  return `${tag} ${conflict.kind}: ${conflict.message}`;
}

export function list(items: string[], max = 6): string {
  return items.length <= max
    ? items.join(', ')
    : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/** The post-merge alert: a merge brought protocol changes to a file my live sessions change too. */
export function mergeAlert(alert: {
  file: string;
  from: { researcher: string; session: string }[];
  mine: string[];
  orig: string;
}): string {
  const by = alert.from.length
    ? ` by ${alert.from.map((f) => `${f.researcher} (session ${f.session})`).join(', ')}`
    : '';
  return (
    `ALERT: this merge brought changes${by} to the protocol file ${alert.file}, which your session ` +
    `${alert.mine.join(', ')} also changes. Review them together: git diff ${alert.orig.slice(0, 12)} HEAD -- ${alert.file}`
  );
}
