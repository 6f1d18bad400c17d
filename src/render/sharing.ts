import { EXIT } from '../core/errors.js';
import { warn } from '../core/output.js';
import type { NetworkOutcome } from '../store/remote.js';

/**
 * What a command says when what it wrote did not reach the remote, and its exit code: the next
 * sync shares it, except what the server's gate refused, which stays in this clone (a retry
 * would be refused again) and fails the command.
 */
export function reportSharing(outcome: NetworkOutcome, next = 'the next sync'): number {
  if (outcome.ok || outcome.reason === 'no-remote') return EXIT.ok;
  if (outcome.reason === 'refused') {
    warn(`The server's gate refused it: ${outcome.detail}`);
    return EXIT.refused;
  }
  warn(`Not shared with the remote yet (${outcome.detail}); ${next} will share it.`);
  return EXIT.ok;
}
