import { parse } from '../core/args.js';
import type { CommandSpec } from '../core/command.js';
import { usageError } from '../core/errors.js';
import { print, printJson } from '../core/output.js';
import { writeCheckpoint } from '../services/checkpoint.js';

/** What `checkpoint` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'checkpoint',
  usage: ['checkpoint [--message TEXT] [-r ID] [--session ID] [--json]'],
  summary: 'emergency checkpoint that works even when git does not',
  details: `Writes .claude/emergency-sessions/session-<timestamp>.md with everything known (researcher,
last known session from CONSORTIUM_SESSION, branch, the message), without needing git: it works
with a broken repository or no git at all. The next start or sync folds pending checkpoints into
the session record, says so once, and moves them to folded/.`,
  examples: [
    {
      run: 'checkpoint --message "before the big refactor"',
      says: 'write an emergency checkpoint, even with git broken',
    },
    { run: 'checkpoint --json', says: 'the same, saying where it was written as JSON' },
  ],
  options: {
    message: { type: 'string', short: 'm' },
    researcher: { type: 'string', short: 'r' },
    session: { type: 'string' },
    json: { type: 'boolean' },
  },
} as const satisfies CommandSpec;

/**
 * Emergency checkpoint: opens no repository and needs no working git, so it still works
 * when everything else fails (SPEC section 6).
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, command.options, [0, 0]);
  const message = values.message ?? '';
  if (message.length > 100_000 || message.includes('\0'))
    throw usageError('--message takes up to 100000 characters of text.');
  const { file, data, inRepository } = await writeCheckpoint({
    cwd: process.cwd(),
    message,
    researcher: values.researcher,
    session: values.session,
  });
  if (values.json) printJson({ file, ...data });
  else {
    print(`Wrote the emergency checkpoint ${file}`);
    print(
      `researcher ${data.researcher ?? '(unknown)'}, session ${data.session ?? '(unknown)'}, branch ${data.branch ?? '(unknown)'}.`,
    );
    print(
      inRepository
        ? 'The next git consortium start or sync folds it into the session record.'
        : 'No git repository was found above this folder, so it was written here: copy it into the ' +
            "repository's .claude/emergency-sessions/ for the next start or sync there to fold it in.",
    );
  }
  return 0;
}
