import type { Context } from '../context/context.js';
import { iso, now } from '../core/clock.js';
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
    (e) => e.landed === null && e.ref?.startsWith('refs/heads/'),
  );
  if (pending.length === 0) return 0;
  const refs = [...new Set(pending.map((e) => e.ref!))];
  const tips = await remoteTips(ctx.repo, ctx.config.remote, refs, 5000);
  if (!tips) return 0;
  // The remote's tips, when not here yet, are fetched aside to be compared with.
  const unknown = [...tips].filter(([, sha]) => !resolveRef(ctx.repo, `${sha}^{commit}`));
  if (unknown.length)
    await fetchRefspecs(
      ctx.repo,
      ctx.config,
      unknown.map(([ref]) => `+${ref}:${LANDING}${ref.slice('refs/heads/'.length)}`),
    );
  let settled = 0;
  for (const e of pending) {
    const tip = tips.get(e.ref!);
    const landed = !!tip && (tip === e.commit || isAncestor(ctx.repo, e.commit, tip));
    if (!landed && ctx.nowMs - Date.parse(e.at) < PENDING_FOR_MS) continue;
    const entry = { type: 'landed', at: iso(now()), override: e.at, by: e.by, ref: e.ref, landed };
    if (addNote(ctx.repo, e.commit, entry, author)) settled++;
  }
  for (const [ref] of unknown) deleteRef(ctx.repo, `${LANDING}${ref.slice('refs/heads/'.length)}`);
  return settled;
}
