import { isLive } from '../analysis/state.js';
import { openContext } from '../context/context.js';
import { findCurrentSession } from '../context/current-session.js';
import { resolveIdentity } from '../context/identity.js';
import { iso, now } from '../core/clock.js';
import { warn } from '../core/output.js';
import { matchesAny } from '../core/patterns.js';
import { defaultBranch, headCommit } from '../git/changes.js';
import { commitIds, filesBetween } from '../git/history.js';
import { resolveRef } from '../git/refs.js';
import { resolveCommit } from '../git/repo.js';
import { markMergedSessions } from '../services/merged.js';
import { authorFor, refreshSession } from '../services/sessions.js';
import { addNote } from '../store/notes.js';
import { NOTES_REF, sessionRef } from '../store/refs.js';
import { shareInBackground } from '../store/remote.js';

/**
 * post-merge (SPEC section 7), after `git merge` and `git pull` (not for a conflicted merge
 * finished by `git commit`, nor `pull --rebase`: `sync` covers those). Records a note on the
 * merge result, marks this machine's sessions whose work the default branch now contains as
 * merged, and alerts when the merge brought protocol changes to files my live sessions have
 * changed: git's own diffstat does not say that those files were mine too.
 */
export async function run(args: string[]): Promise<number> {
  if (args[0] === '1') return 0; // a squash merge: nothing was committed, HEAD did not move
  const ctx = await openContext();
  const head = headCommit(ctx.repo);
  const orig = resolveCommit(ctx.repo, 'ORIG_HEAD');
  if (!head || !orig || orig === head) return 0;
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
  if (merged.length)
    warn(
      `git-consortium: ${merged.length === 1 ? 'session' : 'sessions'} ${merged.join(', ')} merged into ${base.name}.`,
    );
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
    const by = from.length ? ` by ${from.map((s) => `${s.researcher} (session ${s.id})`).join(', ')}` : '';
    warn(
      `git-consortium: ALERT: this merge brought changes${by} to the protocol file ${file}, which your session ` +
        `${ours.map((s) => s.id).join(', ')} also changes. Review them together: git diff ${orig.slice(0, 12)} HEAD -- ${file}`,
    );
  }

  if (current && current.state === 'active' && !merged.includes(current.id)) refreshSession(ctx, current);
  shareInBackground(ctx.repo, [...merged.map(sessionRef), ...(noted ? [NOTES_REF] : [])]);
  return 0;
}
