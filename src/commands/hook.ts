import { agentEnvironment } from '../core/agent.js';
import type { CommandSpec } from '../core/command.js';
import { EXIT, usageError } from '../core/errors.js';
import { writeTo } from '../core/stdio.js';

/** What `hook` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'hook',
  usage: ['hook <name> [args...]'],
  summary: 'entry point of the installed git hooks',
  details: `Called by the git hooks that init installs (post-checkout, post-commit, pre-push, post-merge); not meant to be run by hand.`,
  examples: [
    {
      run: 'hook pre-push origin git@example.org:tcp.git',
      says: 'what husky runs before a push (reads the refs on stdin)',
    },
    { run: 'hook post-checkout HEAD@{1} HEAD 1', says: 'what husky runs after a checkout' },
  ],
  options: {},
} as const satisfies CommandSpec;

/**
 * Entry point of the installed git hooks (hooks/<name> calls `git-consortium hook <name>`).
 * Loads only the handler of that hook. A hook must never break git: any failure of ours is
 * one line and exit 0, except in pre-push, where 1 means "blocked" and anything else is
 * reported as 3 so that the hook body lets the push through.
 */
type Handler = { run(args: string[]): Promise<number> };

const HOOKS: Record<string, () => Promise<Handler>> = {
  'post-checkout': () => import('../hooks/post-checkout.js'),
  'post-commit': () => import('../hooks/post-commit.js'),
  'pre-push': () => import('../hooks/pre-push.js'),
  'post-merge': () => import('../hooks/post-merge.js'),
  // Not a git hook: the gate's detached recorder of a push that went ahead.
  'push-record': () => import('../hooks/push-record.js'),
};

/** The git hooks, as named to a person (push-record is the gate's own, started by it). */
const GIT_HOOKS = Object.keys(HOOKS).filter((name) => name !== 'push-record');

export async function run(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || !Object.hasOwn(HOOKS, name))
    throw usageError(`git consortium hook takes one of ${GIT_HOOKS.join(', ')}.`);
  // Off when asked, except that an agent cannot turn the push gate off (SPEC section 7).
  const off = process.env.CONSORTIUM === '0' || process.env.HUSKY === '0';
  if (off && !(name === 'pre-push' && agentEnvironment())) return EXIT.ok;
  try {
    const handler = await HOOKS[name]!();
    return await handler.run(args);
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    writeTo(2, `git-consortium (${name} hook): ${message}\n`);
    if (process.env.CONSORTIUM_DEBUG && error instanceof Error) writeTo(2, `${error.stack}\n`);
    return name === 'pre-push' ? EXIT.environment : EXIT.ok;
  }
}
