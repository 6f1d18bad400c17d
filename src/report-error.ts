import { ConsortiumError, EXIT } from './core/errors.js';
import { writeTo } from './core/stdio.js';

/**
 * An error as the user reads it: our own as its message (a refusal's remedies worded for who
 * runs this) with its exit code; anything else as one line and exit 3. Never a stack trace,
 * unless CONSORTIUM_DEBUG asks for one.
 */
export async function reportError(error: unknown): Promise<number> {
  if (error instanceof ConsortiumError) {
    if (error.remedies.length === 0) writeTo(2, `git-consortium: ${error.message}\n`);
    else {
      // Only a refusal with ways out loads their wording, and words them for who runs this.
      const [agent, render] = await Promise.all([import('./core/agent.js'), import('./render/remedies.js')]);
      const caller = { actor: agent.agentEnvironment() ? 'agent' : 'person', via: 'cli' } as const;
      writeTo(2, `git-consortium: ${render.withRemedies(error.message, error.remedies, caller)}\n`);
    }
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  writeTo(2, `git-consortium: unexpected error: ${message.split('\n')[0]}\n`);
  if (process.env.CONSORTIUM_DEBUG) writeTo(2, `${error instanceof Error ? error.stack : ''}\n`);
  return EXIT.environment;
}
