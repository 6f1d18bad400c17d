import type { Conflict } from '../analysis/conflicts.js';
import type { LeaseView } from '../analysis/leases.js';
import type { Colors } from '../core/output.js';
import type { SessionView } from '../services/view.js';
import { aligned, plural, relative, shortPath, until } from './glance.js';
import { conflictLine, sessionLine } from './text.js';

/**
 * `status` as people read it: a one-line summary, one line per session (grouped by researcher,
 * yours first and marked), one aligned line per lease, one line per conflict. `long` keeps the
 * full blocks of every session and conflict.
 */
export interface StatusText {
  sessions: SessionView[];
  leases: LeaseView[];
  conflicts: Conflict[];
  me: { id: string; source: string } | null;
  all: boolean;
  nowMs: number;
  /** What the list was narrowed to (a researcher or a path), if anything. */
  only?: string;
  /** A session id as people read it (Context.shortId): the same in every command. */
  short: (id: string) => string;
}

export function statusLines(s: StatusText, c: Colors, options: { long?: boolean } = {}): string[] {
  const { short } = s;
  const researchers = new Set(s.sessions.map((x) => x.researcher));
  const summary = [
    `${plural(s.sessions.length, s.all ? 'session' : 'active session')}${researchers.size > 1 ? ` of ${researchers.size} researchers` : ''}`,
    plural(s.leases.length, 'lease'),
    s.conflicts.length ? c.red(plural(s.conflicts.length, 'conflict')) : c.green('no conflicts'),
  ].join(', ');
  const lines = [`${c.bold(summary)}${s.only ? ` (${s.only})` : ''}.`];
  if (s.me)
    lines.push(
      `You are ${s.me.id} (known from ${s.me.source.replace(/\d{8}-\d{9}-[0-9a-f]+/g, (id) => short(id))}).`,
    );
  if (options.long) {
    for (const x of s.sessions) lines.push(sessionLine(x, s.nowMs, c));
  } else {
    lines.push(...sessionLines(s.sessions, s.me?.id, s.nowMs, c, short));
  }
  if (s.leases.length) {
    lines.push(c.bold('Leases'));
    lines.push(
      ...aligned(
        s.leases.map((l) => [l.pattern, l.researcher, short(l.session), until(l.expiresAt, s.nowMs)]),
      ),
    );
  }
  if (s.conflicts.length) {
    lines.push(c.bold('Conflicts'));
    if (options.long) for (const x of s.conflicts) lines.push(`  ${conflictLine(x, c)}`);
    else {
      const whose = new Map(s.sessions.map((x) => [x.id, x.researcher]));
      const who = (id: string) => `${whose.get(id) ?? '?'} ${short(id)}`;
      lines.push(...aligned(s.conflicts.map((x) => conflictCells(x, c, who))));
      lines.push(c.dim('git consortium check (before a push) or status --long says more about each.'));
    }
  }
  return lines;
}

/** One conflict in a line: how bad, what kind, which files, whose sessions. */
function conflictCells(x: Conflict, c: Colors, who: (id: string) => string): string[] {
  const tag =
    x.severity === 'high' ? c.red('HIGH') : x.severity === 'medium' ? c.yellow('MEDIUM') : c.dim('LOW');
  const paths = x.kind === 'worktree' ? x.paths.map((p) => shortPath(p)) : x.paths;
  const files = paths.length <= 2 ? paths.join(', ') : `${paths.slice(0, 2).join(', ')} +${paths.length - 2}`;
  return [tag, x.kind, files, x.sessions.map(who).join(', ')];
}

/** One aligned line per session: grouped by researcher, `me` first and marked with a star. */
export function sessionLines(
  sessions: SessionView[],
  me: string | undefined,
  nowMs: number,
  c: Colors,
  short: (id: string) => string,
): string[] {
  // Yours first, then by researcher; within one, the most recent heartbeat first.
  const order = [...sessions].sort(
    (a, b) =>
      Number(b.researcher === me) - Number(a.researcher === me) ||
      a.researcher.localeCompare(b.researcher) ||
      b.heartbeatAt.localeCompare(a.heartbeatAt),
  );
  return aligned(
    order.map((x) => [
      x.researcher === me ? '*' : ' ',
      c.bold(short(x.id)),
      x.researcher,
      `${x.host}:${shortPath(x.worktree, 30)}`,
      `${relative(x.heartbeatAt, nowMs)}${x.effectiveState === 'active' ? '' : ` (${x.effectiveState})`}`,
      plural(x.changedFiles.length, 'file'),
      [x.agent.kind === 'claude-code' ? 'agent' : '', x.leases.join(' ')].filter(Boolean).join('  '),
    ]),
    '',
  );
}
