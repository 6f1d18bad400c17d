import { warn } from '../core/output.js';
import { readStdin, stdinIsTerminal } from '../core/stdio.js';
import { openBareRepo } from '../git/repo.js';
import { parseUpdates } from '../services/coordination-guard.js';
import { recordLanded } from '../services/server-gate.js';
import { SPEAKER } from './pre-receive.js';

/**
 * post-receive on the server: the push has landed (nothing can refuse it now). The overrides
 * the server's gate accepted are recorded as notes: by push option, the override itself,
 * landed; sent ahead by a client's gate, a `landed` line for it. audit and every clone's sync
 * then see them.
 */
export async function run(_args: string[], cwd = process.cwd()): Promise<number> {
  const updates = parseUpdates(stdinIsTerminal() ? '' : ((await readStdin()) ?? ''));
  if (updates.length === 0) return 0;
  const { recorded, problem } = recordLanded(openBareRepo(cwd), updates);
  if (problem) warn(`${SPEAKER}: warning: ${problem}; the next client sync settles it.`);
  for (const entry of recorded.filter((e) => e.type === 'override'))
    warn(
      `${SPEAKER}: recorded the override of ${entry.ref} by ${entry.by}: ${JSON.stringify(entry.reason)}.`,
    );
  return 0;
}
