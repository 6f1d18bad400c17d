import type { Conflict } from '../analysis/conflicts.js';
import type { GateEvent, GateStatus } from '../analysis/gates.js';
import type { LeaseView } from '../analysis/leases.js';

/**
 * The handoff document of SPEC section 8: Markdown with fixed sections, always all of them
 * (a section with nothing to say says so), so that the next session, a person or an agent,
 * always finds each fact in the same place.
 */
export interface HandoffFacts {
  session: {
    id: string;
    researcher: string;
    name: string | null;
    branch: string | null;
    worktree: string;
    host: string;
    intent: string;
    startedAt: string;
    endedAt: string | null;
    startCommit: string | null;
  };
  at: string;
  head: string | null;
  commits: { sha: string; subject: string }[];
  files: string[];
  /** Commits of the session that no remote-tracking branch holds yet. */
  unpushed: number;
  protocol: {
    files: string[];
    /** Live sessions of other researchers, and the protocol files they changed too. */
    sessions: { id: string; researcher: string; alsoChanged: string[] }[];
    researchers: string[];
  };
  gates: { touched: GateEvent[]; unlocked: GateStatus[]; waiting: GateStatus[]; waitingOnMe: GateStatus[] };
  leases: LeaseView[];
  conflicts: Conflict[];
  summary: string;
  /** The steps the agent or person gave (nextSteps adds the derived ones). */
  steps: string[];
  /**
   * What this handoff kept of an earlier one (the session's own last, or the one it carries on
   * from), because nothing new replaced it: its summary, its steps, or both. Null: all new.
   */
  keptFrom: { session: string; at: string; summary: boolean; steps: boolean } | null;
  /** A line the toolkit adds, such as why the handoff was written (a compaction). */
  note: string | null;
  nextSteps: string[];
}

export const HANDOFF_SECTIONS = [
  'Session',
  'Protocol impact',
  'Gates',
  'Work done',
  'Open conflicts and leases',
  'Summary',
  'Next steps',
] as const;

const MAX_LISTED = 50;
const short = (sha: string | null) => (sha ? sha.slice(0, 10) : '(none)');
const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;

function listed<T>(items: T[], line: (item: T) => string): string[] {
  const shown = items.slice(0, MAX_LISTED).map((item) => `- ${line(item)}`);
  if (items.length > MAX_LISTED) shown.push(`- ... and ${items.length - MAX_LISTED} more`);
  return shown;
}

export function renderHandoff(f: HandoffFacts): string {
  const s = f.session;
  const out: string[] = [`# Handoff: session ${s.id}`, ''];

  out.push('## Session', '');
  out.push(`- Id: ${s.id}`);
  out.push(`- Researcher: ${s.name ? `${s.name} (${s.researcher})` : s.researcher}`);
  out.push(`- Branch: ${s.branch ? code(s.branch) : '(detached HEAD)'}`);
  out.push(`- Worktree: ${code(s.worktree)} on ${s.host}`);
  out.push(`- Started: ${s.startedAt} at ${short(s.startCommit)}`);
  out.push(`- Handed off: ${f.at} at ${short(f.head)}`);
  if (s.endedAt) out.push(`- Ended: ${s.endedAt}`);
  if (s.intent) out.push(`- Intent: ${s.intent}`);
  out.push('');

  out.push('## Protocol impact', '');
  if (f.protocol.files.length === 0) out.push('No protocol files changed.');
  else {
    out.push('Protocol files changed:', ...listed(f.protocol.files, code), '');
    out.push(
      `Researchers affected: every researcher depends on protocol files${f.protocol.researchers.length ? ` (${f.protocol.researchers.join(', ')})` : ''}.`,
    );
    if (f.protocol.sessions.length) {
      out.push('', 'Live sessions affected:');
      out.push(
        ...listed(
          f.protocol.sessions,
          (x) =>
            `${x.id} of ${x.researcher}${x.alsoChanged.length ? `: also changed ${x.alsoChanged.map(code).join(', ')}` : ''}`,
        ),
      );
    }
    const clash = f.protocol.sessions.filter((x) => x.alsoChanged.length);
    out.push(
      '',
      clash.length
        ? `Coordination needed: agree with ${[...new Set(clash.map((x) => x.researcher))].join(', ')} on one change before either is merged.`
        : 'Coordination needed: announce the change to the other researchers before it is merged.',
    );
  }
  out.push('');

  out.push('## Gates', '');
  out.push(
    f.gates.touched.length ? 'Touched in this session:' : 'Touched in this session: none.',
    ...listed(
      f.gates.touched,
      (e) =>
        `${e.gate} ${e.action === 'unlock' ? 'unlocked' : 'reopened'} by ${e.by} at ${e.at}${e.forced ? ' (forced)' : ''}${e.note ? `: ${e.note}` : ''}`,
    ),
    '',
  );
  // Blank lines between the blocks: a line right after a list item would join the item.
  out.push(
    `Unlocked: ${f.gates.unlocked.length ? f.gates.unlocked.map((g) => g.id).join(', ') : 'none'}.`,
    '',
  );
  if (f.gates.waiting.length === 0 && f.gates.waitingOnMe.length === 0) out.push('Waiting: nothing.');
  else {
    out.push('Waiting:');
    out.push(
      ...listed(f.gates.waiting, (g) =>
        g.missing.length ? `${g.id} waits on ${g.missing.join(', ')}` : `${g.id} is ready to unlock`,
      ),
      ...listed(
        f.gates.waitingOnMe,
        (g) => `${g.id} (${s.researcher}'s) is awaited by other researchers' gates`,
      ),
    );
  }
  out.push('');

  out.push('## Work done', '');
  if (f.commits.length === 0) out.push('No commits since the session started.');
  else {
    out.push(`${f.commits.length} commit${f.commits.length === 1 ? '' : 's'} since ${short(s.startCommit)}:`);
    out.push(...listed(f.commits, (c) => `${short(c.sha)} ${c.subject}`));
  }
  out.push('');
  if (f.files.length === 0) out.push('No files changed.');
  else out.push(`Files changed (${f.files.length}):`, ...listed(f.files, code));
  if (f.unpushed > 0)
    out.push('', `${f.unpushed} commit${f.unpushed === 1 ? ' is' : 's are'} not on the remote yet.`);
  out.push('');

  out.push('## Open conflicts and leases', '');
  out.push(
    f.conflicts.length ? 'Open conflicts:' : 'Open conflicts: none.',
    ...listed(f.conflicts, (c) => `${c.severity} ${c.kind}: ${c.message}`),
    '',
  );
  out.push(
    f.leases.length ? 'Leases held:' : 'Leases held: none.',
    ...listed(f.leases, (l) => `${code(l.pattern)} until ${l.expiresAt}${l.reason ? ` (${l.reason})` : ''}`),
  );
  out.push('');

  out.push('## Summary', '');
  out.push(f.summary.trim() || 'No summary was given.');
  if (f.keptFrom) {
    const { summary, steps, session, at } = f.keptFrom;
    const from = `kept from the handoff of session ${session}, ${at}`;
    out.push(
      '',
      summary && steps
        ? `(The summary and the next steps are ${from}, since nothing new was given.)`
        : summary
          ? `(The summary is ${from}; the next steps are new.)`
          : `(The next steps are ${from}; the summary is new.)`,
    );
  }
  if (f.note) out.push('', f.note);
  out.push('');

  out.push('## Next steps', '');
  out.push(...(f.nextSteps.length ? f.nextSteps.map((n) => `- ${n}`) : ['- Nothing pending.']));
  return `${out.join('\n')}\n`;
}

/**
 * Splits a "Next steps" section off the summary the agent or person wrote, so that it lands
 * in the handoff's own Next steps section instead of being repeated under Summary.
 */
export function splitSummary(text: string): { summary: string; steps: string[] } {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const at = lines.findIndex((l) => /^\s*(#{1,6}\s*)?next steps\s*:?\s*$/i.test(l));
  if (at < 0) return { summary: text.trim(), steps: [] };
  const rest = lines.slice(at + 1);
  const end = rest.findIndex((l) => /^#{1,6}\s/.test(l));
  const stepLines = end < 0 ? rest : rest.slice(0, end);
  const steps = stepLines.map((l) => l.replace(/^\s*(?:[-*+]|\d+[.)])\s+/, '').trim()).filter(Boolean);
  const summary = [...lines.slice(0, at), ...(end < 0 ? [] : rest.slice(end))].join('\n').trim();
  return { summary, steps };
}

/**
 * What PreCompact tells the compaction (Claude Code appends a PreCompact hook's stdout to the
 * summary instructions): plain sentences, no JSON, naming the session, the handoff's key points,
 * and where the next context finds the whole handoff.
 */
export function compactionNotes(facts: HandoffFacts): string {
  const s = facts.session;
  const lines = [
    `git-consortium: this conversation works in session ${s.id} of ${s.researcher}` +
      `${s.branch ? ` on branch ${s.branch}` : ''}. Its handoff was written just now.`,
    'Keep these points in the summary:',
  ];
  const point = (text: string) => lines.push(`- ${text}`);
  if (s.intent) point(`The session's intent: ${s.intent}`);
  point(
    facts.commits.length
      ? `${facts.commits.length} commit${facts.commits.length === 1 ? '' : 's'} so far, changing ${facts.files.length} file${facts.files.length === 1 ? '' : 's'}` +
          (facts.unpushed ? ` (${facts.unpushed} not pushed yet).` : '.')
      : 'No commits yet in this session.',
  );
  if (facts.protocol.files.length)
    point(`Protocol files changed (every researcher depends on them): ${facts.protocol.files.join(', ')}.`);
  if (facts.leases.length)
    point(`Leases this session holds: ${facts.leases.map((l) => l.pattern).join(', ')}.`);
  for (const step of facts.nextSteps.slice(0, 6)) point(`Next: ${step}`);
  lines.push(
    'The whole handoff is stored with the session and as a git note; it is given back when the next context starts, ' +
      'and git consortium handoff --show prints it.',
  );
  return lines.join('\n');
}
