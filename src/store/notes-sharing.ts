import type { Config } from '../core/config.js';
import { phase } from '../core/phases.js';
import type { Repo } from '../git/repo.js';
import { mergeFetchedNotes } from './notes.js';
import type { Author } from './records.js';
import { NOTES_REF } from './refs.js';
import { fetchRecords, type PushResult, pushRefs } from './remote.js';

/**
 * Pushes records with our notes among them. Notes are the one record every clone writes at
 * once: when the remote's moved on since the last fetch (another clone's notes), they are
 * fetched, merged and offered once more, as a sync would, so that what was just written
 * reaches the remote now rather than at the next sync.
 */
export async function pushSettlingNotes(
  repo: Repo,
  config: Config,
  refs: string[],
  author: Author,
): Promise<PushResult> {
  const pushed = await pushRefs(repo, config, refs);
  phase('notes push');
  // Only the notes are fetched again: the other records in the push are not written by every clone.
  if (!pushed.rejected.includes(NOTES_REF) || !(await fetchRecords(repo, config, [NOTES_REF])).ok)
    return pushed;
  mergeFetchedNotes(repo, author);
  const again = await pushRefs(repo, config, [NOTES_REF]);
  phase('notes settle');
  return {
    outcome: again.outcome.ok ? pushed.outcome : again.outcome,
    accepted: [...pushed.accepted, ...again.accepted],
    rejected: [...pushed.rejected.filter((r) => r !== NOTES_REF), ...again.rejected],
    held: [...pushed.held, ...again.held],
    refused: [...pushed.refused, ...again.refused],
  };
}
