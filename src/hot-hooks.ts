import * as claudeHook from './commands/claude-hook.js';
import * as gitHook from './commands/hook.js';
import { reportError } from './report-error.js';

/**
 * The way in of the git hooks and the Claude Code hooks, which run on every checkout, push and
 * tool call: the same commands as `git consortium hook` and `claude-hook` through dispatch.ts,
 * but bundled on their own into one file (scripts/postbuild.mjs), so that a hook starts by
 * loading one file rather than a few dozen.
 */
export async function runHook(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    return (await (name === 'hook' ? gitHook : claudeHook).run(rest)) ?? 0;
  } catch (error) {
    return reportError(error);
  }
}
