import { openContext } from '../context/context.js';
import { warn } from '../core/output.js';
import { headCommit } from '../git/changes.js';
import { resolveCommit } from '../git/repo.js';
import { mergeAlert } from '../render/text.js';
import { recordMerge } from '../services/merge-record.js';

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
  const recorded = recordMerge(ctx, orig, head);
  if (recorded.merged.length)
    warn(
      `git-consortium: ${recorded.merged.length === 1 ? 'session' : 'sessions'} ${recorded.merged.join(', ')} merged into ${recorded.into}.`,
    );
  for (const alert of recorded.alerts) warn(`git-consortium: ${mergeAlert(alert)}`);
  return 0;
}
