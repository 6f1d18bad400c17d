import type { Context } from '../context/context.js';
import { iso, now } from '../core/clock.js';
import { defaultBranch } from '../git/changes.js';
import { deleteRef, isAncestor, resolveRef } from '../git/refs.js';
import { remoteTips } from '../git/remote.js';
import { overrideEvents } from '../store/events.js';
import { addNote } from '../store/notes.js';
import type { Author } from '../store/records.js';
import { fetchRefspecs } from '../store/remote.js';

/**
 * Whether the pushes that went past the gate landed (SPEC section 7). The gate records an
 * override before git's own push, which the remote may still refuse, so the note starts
 * pending; here, at a sync, each pending one is settled: landed once the remote's branch holds
 * the pushed commit, not landed when it still does not after a while. The answer is one more
 * line on the same commit's note ("landed"), shared like every note.
 */
const PENDING_FOR_MS = 2 * 60_000;
const LANDING = 'refs/consortium-landing/';

export async function settleOverrides(ctx: Context, author: Author): Promise<number> {
  const pending = overrideEvents(ctx.repo).filter(
    (e) => e.landed === null && e.pushedTo?.startsWith('refs/'),
  );
  if (pending.length === 0) return 0;
  const refs = [...new Set(pending.map((e) => e.pushedTo!))];
  const tips = await remoteTips(ctx.repo, ctx.config.remote, refs, 5000);
  if (!tips) return 0; // the remote did not answer: still not known
  // The remote's tips, when not here yet, are fetched aside to be compared with.
  const aside = (ref: string) => `${LANDING}${ref.slice('refs/'.length)}`;
  const unknown = [...tips].filter(([, sha]) => !resolveRef(ctx.repo, `${sha}^{commit}`));
  if (unknown.length) {
    const fetched = await fetchRefspecs(
      ctx.repo,
      ctx.config,
      unknown.map(([ref]) => `+${ref}:${aside(ref)}`),
    );
    if (!fetched.ok) return 0;
  }
  // A branch merged and deleted since still landed, if the default branch holds the commit.
  const main = defaultBranch(ctx.repo, ctx.config).ref;
  let settled = 0;
  for (const e of pending) {
    const tip = tips.get(e.pushedTo!);
    const holds = (ref: string | undefined) =>
      !!ref && (ref === e.commit || isAncestor(ctx.repo, e.commit, ref));
    const landed = holds(tip) || holds(main);
    // Not there (yet): a push in flight gets two minutes before it counts as refused.
    if (!landed && ctx.nowMs - Date.parse(e.at) < PENDING_FOR_MS) continue;
    const entry = { type: 'landed', at: iso(now()), override: e.at, by: e.by, ref: e.pushedTo, landed };
    if (addNote(ctx.repo, e.commit, entry, author)) settled++;
  }
  for (const [ref] of unknown) deleteRef(ctx.repo, aside(ref));
  return settled;
}
