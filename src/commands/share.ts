import { openContext } from '../context/context.js';
import { parse } from '../core/args.js';
import type { CommandSpec } from '../core/command.js';
import { refreshLineIndex, refreshLineIndexIfDue } from '../services/line-index.js';
import { LOCAL, NOTES_REF } from '../store/refs.js';
import { pushRefs } from '../store/remote.js';

/** What `share` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'share',
  usage: ['share REF...', 'share --lines [--carried=REFSPEC...] [REF...]'],
  summary: 'push coordination refs to the remote (used in the background)',
  details: `Internal: pushes the named coordination refs, bounded in time; --lines then fetches the live sessions' branches whose newest work is not here (but not those the caller's fetch carried, each named by --carried=REFSPEC) and brings the line index up to date.`,
  hidden: true,
  examples: [
    { run: 'share refs/consortium/leases', says: 'push coordination refs to the remote (the hooks call it)' },
  ],
  options: { lines: { type: 'boolean' }, carried: { type: 'string', multiple: true } },
} as const satisfies CommandSpec;

/**
 * Internal: pushes coordination refs (run detached by hooks and heartbeats), then, now and
 * then, refreshes the line index (services/line-index.ts).
 */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(command.name, argv, command.options, [0, Number.POSITIVE_INFINITY]);
  const lines = values.lines === true;
  const carried = values.carried ?? [];
  const refs = positionals.filter(
    (r) => (r.startsWith(LOCAL) || r === NOTES_REF) && !r.includes('..') && !/\s/.test(r),
  );
  const ctx = await openContext();
  const shared = refs.length ? (await pushRefs(ctx.repo, ctx.config, refs, 15_000)).outcome.ok : true;
  // Asked for (a push's gate, SessionStart), or now and then after a heartbeat's share.
  if (lines) await refreshLineIndex(ctx, carried);
  else if (shared) await refreshLineIndexIfDue(ctx);
  return shared ? 0 : 3;
}
