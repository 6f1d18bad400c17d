import type { Severity } from '../analysis/conflicts.js';
import type { Counterpart } from '../analysis/push.js';
import type { Context } from '../context/context.js';
import { plural } from './glance.js';
import type { conflictJson } from './json.js';

export type Level = Severity | 'none';
export type ReportConflict = ReturnType<typeof conflictJson>;

export interface ProtocolFile {
  path: string;
  /** Other live sessions that changed it too, not merged yet. */
  alsoChangedBy: Counterpart[];
  /** Everyone depends on a protocol file: the researchers besides the branch's own. */
  affects: string[];
}

export interface CiReport {
  format: number;
  level: Level;
  branch: string | null;
  /** Whether the branch is named as a session branch of a known researcher. */
  sessionBranch: boolean;
  researcher: string | null;
  session: {
    id: string;
    state: string;
    intent: string;
    startedAt: string;
    heartbeatAt: string;
  } | null;
  base: { ref: string; commit: string };
  head: { ref: string; commit: string };
  commits: number;
  files: string[];
  protocolFiles: ProtocolFile[];
  conflicts: ReportConflict[];
  /** Set when the coordination state could not be fetched: the report uses what is known here. */
  offline: string | null;
  gates: { mermaid: string | null };
  markdown: string;
}

const ORDER: Record<Level, number> = { none: 0, low: 1, medium: 2, high: 3 };

export const levelOf = (conflicts: { severity: Severity }[]): Level =>
  conflicts.reduce<Level>((top, c) => (ORDER[c.severity] > ORDER[top] ? c.severity : top), 'none');

/**
 * The shape of the CI report (ci report --format json), and the same report as GitHub Markdown, for the job summary, the pull request comment and the issue.
 * Branch names, file names, intents and messages are user text: they are escaped so none can
 * add HTML, links or table cells of its own.
 */
const BADGE: Record<Level, string> = {
  high: '🔴 high',
  medium: '🟠 medium',
  low: '🟡 low',
  none: '🟢 none',
};

export function reportMarkdown(r: Omit<CiReport, 'markdown'>, ctx: Context): string {
  const lines: string[] = [];
  lines.push(`## Session coordination: ${BADGE[r.level]}`);
  lines.push('');
  const who = r.researcher ? ctx.researchers.get(r.researcher) : undefined;
  const facts = [
    `**Branch** ${r.branch ? code(r.branch) : '(none: a detached commit)'}`,
    `**Researcher** ${r.researcher ? `${text(who?.name ? `${who.name} (${r.researcher})` : r.researcher)}` : 'unknown'}`,
    `**Session** ${r.session ? `${code(r.session.id)} (${r.session.state}${r.session.intent ? `: ${text(r.session.intent)}` : ''})` : 'none recorded'}`,
  ];
  lines.push(facts.join(' · '));
  lines.push('');
  lines.push(
    `Compared with ${code(r.base.ref)} (${r.base.commit.slice(0, 10)}): ${plural(r.commits, 'commit')}, ${plural(r.files.length, 'file')} changed.`,
  );
  if (!r.sessionBranch && r.branch)
    lines.push(
      '',
      `This is not a session branch of a known researcher: only conflicts of its files are reported.`,
    );
  if (r.offline)
    lines.push(
      '',
      `> The coordination state could not be fetched (${text(r.offline)}); this report uses what was known.`,
    );

  lines.push('', '### Protocol files changed', '');
  if (r.protocolFiles.length === 0) lines.push('None.');
  else {
    lines.push('| File | Also changed, not merged yet, by | Affects |', '|---|---|---|');
    for (const p of r.protocolFiles) {
      const also = p.alsoChangedBy.length
        ? p.alsoChangedBy
            .map((w) => `${text(w.researcher)}${w.session ? ` (session ${code(w.session)})` : ''}`)
            .join(', ')
        : 'nobody';
      lines.push(
        `| ${code(p.path)} | ${also} | every researcher${p.affects.length ? `: ${p.affects.map(text).join(', ')}` : ''} |`,
      );
    }
  }

  lines.push('', '### Conflicts with other live sessions', '');
  if (r.conflicts.length === 0) lines.push('None.');
  for (const c of r.conflicts) {
    const withWhom = c.with
      .map(
        (w) =>
          `${text(w.researcher)}${w.session ? `, session ${code(w.session)}` : ''}${w.branch ? `, branch ${code(w.branch)}` : ''}`,
      )
      .join('; ');
    lines.push(
      `- **${c.severity.toUpperCase()} ${c.kind}** (${c.action === 'block' ? 'blocks a push' : 'warns'}): ${c.paths.map(code).join(', ')}${withWhom ? ` with ${withWhom}` : ''}.  `,
    );
    lines.push(`  ${text(c.message)}`);
  }

  if (r.gates.mermaid) lines.push('', '### Gates', '', '```mermaid', r.gates.mermaid, '```');
  lines.push('', '<sub>Reported by git-consortium ci report.</sub>');
  return `${lines.join('\n')}\n`;
}

/** Inline code that no backtick, pipe or line break in the value can end early. */
export function code(value: string): string {
  const flat = value.replace(/[\r\n]+/g, ' ').replace(/\|/g, '\\|');
  const longest = Math.max(0, ...[...flat.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** Plain text: no HTML, no links, no emphasis, no table cells of its own. */
export function text(value: string): string {
  return value
    .replace(/[\r\n]+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|#!~])/g, '\\$1');
}
