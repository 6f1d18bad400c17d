import type { AuditTrail } from '../services/audit.js';

/** The audit trail as Markdown: one table row per event, with the commit a reviewer can check. */
export function auditMarkdown({ since, until, events }: AuditTrail): string {
  const lines = [
    '# Consortium audit trail',
    '',
    `${since ? `From ${since}` : 'All recorded history'} to ${until}: ${events.length} event${events.length === 1 ? '' : 's'}. ` +
      'Verify any of them with `git show <commit>` (notes: `git notes --ref=consortium show <commit>`).',
    '',
    '| Time | Kind | Action | By | Session | What | Commit |',
    '|---|---|---|---|---|---|---|',
    ...events.map(
      (e) =>
        `| ${e.at} | ${e.kind} | ${cell(e.action)} | ${cell(e.by)} | ${e.session ?? ''} | ${cell(e.what)} | ${e.commit} |`,
    ),
  ];
  return lines.join('\n');
}

const cell = (text: string) =>
  text
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]+/g, ' ')
    .slice(0, 300);
