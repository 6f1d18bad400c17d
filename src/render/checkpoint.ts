/**
 * The emergency checkpoint file: Markdown a person reads, with the data on one marked line
 * that the fold reads back (a hand-edited file keeps its whole text as the message).
 */
const MARK = '<!-- git-consortium checkpoint ';

export interface CheckpointData {
  format: 1;
  at: string;
  message: string;
  researcher: string | null;
  researcherSource: string | null;
  session: string | null;
  branch: string | null;
  top: string;
  cwd: string;
  host: string;
  user: string;
  git: string;
}

export function renderCheckpoint(d: CheckpointData): string {
  return [
    `# Emergency checkpoint, ${d.at}`,
    '',
    'Written by git consortium checkpoint when git could not be used. The next',
    '`git consortium start` or `git consortium sync` folds it into the session record.',
    '',
    `- Researcher: ${d.researcher ?? '(unknown)'}${d.researcherSource ? ` (from ${d.researcherSource})` : ''}`,
    `- Last known session: ${d.session ?? '(unknown)'}`,
    `- Branch: ${d.branch ?? '(unknown)'}`,
    `- Repository: ${d.top}`,
    `- Working directory: ${d.cwd}`,
    `- Host: ${d.host}, user ${d.user}`,
    `- Git: ${d.git}`,
    '',
    '## Message',
    '',
    d.message.trim() || '(no message)',
    '',
    `${MARK}${JSON.stringify(d).replace(/--/g, '-\\u002d')} -->`,
    '',
  ].join('\n');
}

export function parseCheckpoint(text: string): Partial<CheckpointData> & { message: string } {
  const line = text.split('\n').find((l) => l.startsWith(MARK));
  if (line) {
    try {
      const data = JSON.parse(line.slice(MARK.length, line.lastIndexOf(' -->')));
      if (data && typeof data === 'object' && typeof data.message === 'string') return data;
    } catch {
      // hand-edited: keep the whole text as the message
    }
  }
  return { message: text.trim() };
}

/** The line start and sync print, once, when they fold checkpoints. */
export function foldedLine(folded: { name: string; session: string; message: string }[]): string {
  const first = folded[0]!;
  return folded.length === 1
    ? `Folded the emergency checkpoint ${first.name} into session ${first.session}: ${firstLine(first.message)}`
    : `Folded ${folded.length} emergency checkpoints into session records: ${folded.map((f) => `${f.name} (session ${f.session})`).join(', ')}.`;
}

const firstLine = (text: string) => (text.trim().split('\n')[0] ?? '').slice(0, 200) || '(no message)';
