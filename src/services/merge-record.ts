import { isLive } from '../analysis/state.js';
import type { Context } from '../context/context.js';
import { findCurrentSession } from '../context/current-session.js';
import { resolveIdentity } from '../context/identity.js';
import { iso, now } from '../core/clock.js';
import { matchesAny } from '../core/patterns.js';
import { defaultBranch } from '../git/changes.js';
import { commitIds, filesBetween } from '../git/history.js';
import { resolveRef } from '../git/refs.js';
import { addNote } from '../store/notes.js';
import { NOTES_REF, sessionRef } from '../store/refs.js';
import { shareInBackground } from '../store/remote.js';
import { markMergedSessions } from './merged.js';
import { authorFor, refreshSession } from './sessions.js';

/**
 * What a merge (post-merge) leaves behind: a note on the merge result naming the sessions whose
 * work it brought in and the protocol files it changed, this machine's sessions marked merged,
 * and alerts for protocol files it changed that my live sessions have changed too.
 */
export interface MergeAlert {
  file: string;
  /** The sessions of others whose work brought the change, as far as known. */
  from: { researcher: string; session: string }[];
  /** My sessions that change the file too. */
  mine: string[];
  /** The commit before the merge, for the diff to review. */
  orig: string;
}

export interface MergeRecord {
  merged: string[];
  into: string;
  alerts: MergeAlert[];
}

export function recordMerge(ctx: Context, orig: string, head: string): MergeRecord {
  const files = filesBetween(ctx.repo, orig, head);
  const protocolFiles = files.filter((f) => matchesAny(f, ctx.config.protocol));
  const broughtIn = new Set(commitIds(ctx.repo, [head], [orig]) ?? []);
  const { sessions } = ctx.sessions();
  const brought = sessions.filter((s) => s.head && broughtIn.has(s.head));
  const current = findCurrentSession(ctx, { quiet: true });
  let me: string | undefined;
  try {
    me = current?.researcher ?? resolveIdentity(ctx)?.id;
  } catch {
    // an invalid CONSORTIUM_RESEARCHER: the note names nobody
  }
  const author = authorFor(ctx, me ?? 'unknown');
  const base = defaultBranch(ctx.repo, ctx.config);
  const mergedSessions = markMergedSessions(ctx, {
    targets: [...new Set([base.ref, `refs/heads/${base.name}`])].filter((r): r is string => !!r),
    thisHostOnly: true,
  });
  const merged = mergedSessions.map((s) => s.id);
  const noted = addNote(
    ctx.repo,
    head,
    {
      type: 'merge',
      at: iso(now()),
      by: me ?? null,
      session: current?.id ?? null,
      from: orig,
      sessions: [...new Map([...brought, ...mergedSessions].map((s) => [s.id, s])).values()].map((s) => ({
        id: s.id,
        researcher: s.researcher,
        branch: s.branch,
      })),
      protocolFiles,
      files: files.length,
    },
    author,
  );

  // The alert: protocol files this merge changed that my live sessions have changed too.
  const mine = sessions.filter(
    (s) =>
      (s.id === current?.id || (me !== undefined && s.researcher === me)) &&
      isLive(s, ctx.nowMs, ctx.config.sessions.staleAfterMs),
  );
  const alerts: MergeAlert[] = [];
  for (const file of protocolFiles) {
    const ours = mine.filter((s) => s.changedFiles.includes(file) || s.touchedFiles.includes(file));
    if (ours.length === 0) continue;
    // Changes to the file that my own sessions' commits do not account for: merging my own
    // work back is nothing to be alerted about.
    const myHeads = ours
      .flatMap((s) => [s.head, s.branch && s.branch !== ctx.branch ? `refs/heads/${s.branch}` : null])
      .filter((h): h is string => !!h && resolveRef(ctx.repo, h) !== undefined);
    const others = commitIds(ctx.repo, [head], [orig, ...myHeads], { max: 1, paths: [file] });
    if (others && others.length === 0) continue;
    const from = brought.filter((s) => s.changedFiles.includes(file) && !ours.some((o) => o.id === s.id));
    alerts.push({
      file,
      from: from.map((s) => ({ researcher: s.researcher, session: s.id })),
      mine: ours.map((s) => s.id),
      orig,
    });
  }

  if (current && current.state === 'active' && !merged.includes(current.id)) refreshSession(ctx, current);
  shareInBackground(ctx.repo, [...merged.map(sessionRef), ...(noted ? [NOTES_REF] : [])]);
  return { merged, into: base.name, alerts };
}
