import type { Context } from '../context/context.js';
import { iso, now } from '../core/clock.js';
import { authorEmails } from '../git/history.js';
import { branchTips, containedIn, resolveRef } from '../git/refs.js';
import type { Author } from '../store/records.js';
import { type Session, updateSession } from '../store/sessions.js';
import { hostName } from './sessions.js';

/**
 * Marks merged the open sessions whose work the default branch now contains (SPEC section 5:
 * commits past its start, all of them in the default branch). "Its work" matters: a session
 * that only pulled the default branch into its branch has commits past its start too, none of
 * them its own. A session of this machine is judged by its branch here (the newest); others
 * by the head their record last shared.
 */
export function markMergedSessions(
  ctx: Context,
  options: { targets: string[]; thisHostOnly: boolean; author?: Author },
): Session[] {
  const targets = options.targets.map((t) => resolveRef(ctx.repo, t)).filter((t) => t !== undefined);
  if (targets.length === 0) return [];
  const host = hostName();
  const branches = branchTips(ctx.repo);
  const candidates: { s: Session; head: string }[] = [];
  for (const s of ctx.sessions().sessions) {
    if (s.state !== 'active' || !s.startCommit) continue;
    const here = s.host === host;
    if (options.thisHostOnly && !here) continue;
    const head = (here && s.branch ? branches.get(s.branch) : undefined) ?? s.head;
    if (head && head !== s.startCommit) candidates.push({ s, head });
  }
  const contained = containedIn(
    ctx.repo,
    candidates.map((c) => c.head),
    targets,
  );
  const marked: Session[] = [];
  for (const { s, head } of candidates) {
    if (!contained.has(head)) continue;
    if (!hasOwnWork(ctx, s, head)) continue;
    const updated = updateSession(
      ctx.repo,
      s.id,
      'merged',
      (record) =>
        record.state === 'active' ? { ...record, state: 'merged', endedAt: iso(now()), head } : undefined,
      options.author ?? { name: s.researcher, email: ctx.userEmail ?? `${s.researcher}@consortium.invalid` },
    );
    if (updated?.state === 'merged') marked.push(updated);
  }
  if (marked.length) ctx.invalidate();
  return marked;
}

/**
 * Whether the session has work of its own past its start: its record showed files of its own
 * (changed or touched), or a commit past its start was written by its author. Commits that
 * came from the default branch alone do not count.
 */
function hasOwnWork(ctx: Context, s: Session, head: string): boolean {
  if (s.changedFiles.length || s.touchedFiles.length) return true;
  const emails = authorEmails(ctx.repo, head, s.startCommit!);
  return !!emails && !!s.email && emails.includes(s.email);
}
