import { isLive } from '../analysis/state.js';
import { openContext } from '../context/context.js';
import { resolveIdentity } from '../context/identity.js';
import { parse } from '../core/args.js';
import type { CommandSpec } from '../core/command.js';
import { colors, print, printJson, warn } from '../core/output.js';
import { sessionJson } from '../render/json.js';
import { conflictLine, sessionLine } from '../render/text.js';
import { inactiveHooks } from '../services/hooks-active.js';

import { fetchSessionBranches } from '../services/predict.js';

import { coordinationView } from '../services/view.js';
import { fetchCoordination } from '../store/remote.js';

/** What `status` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'status',
  usage: ['status [-r ID] [--json] [--all] [--fetch]'],
  summary: "every researcher's active sessions, leases and conflicts",
  details: `Lists the active sessions of every researcher (all states with --all), the leases held and
the conflicts between live sessions: lease, protocol, worktree, and merge (the committed work
of two sessions that changed the same files, merged speculatively without touching any
worktree: their pushed branches, or the heads their records hold, and your own branches).
Reads local state only, unless --fetch first brings the remote's coordination state and the
live sessions' pushed branches. Always exits 0.`,
  examples: [
    { run: 'status', says: 'every live session, lease and predicted conflict' },
    { run: 'status --fetch', says: 'the same, after fetching what the other machines shared' },
    { run: 'status --all --json', says: 'ended and merged sessions too, as JSON' },
  ],
  options: {
    json: { type: 'boolean' },
    all: { type: 'boolean' },
    fetch: { type: 'boolean' },
    researcher: { type: 'string', short: 'r' },
  },
} as const satisfies CommandSpec;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, command.options);
  const ctx = await openContext(undefined, { researcher: values.researcher });
  const unprotected = inactiveHooks(ctx);
  if (unprotected) warn(unprotected);
  if (values.fetch) {
    const fetched = await fetchCoordination(ctx.repo, ctx.config);
    if (!fetched.ok && fetched.reason !== 'no-remote')
      warn(
        `warning: could not fetch from ${ctx.config.remote} (${fetched.detail}); showing what is known here.`,
      );
    if (fetched.ok) {
      // The live sessions' pushed branches too, so their work can be merged speculatively.
      const live = ctx
        .sessions()
        .sessions.filter((s) => isLive(s, ctx.nowMs, ctx.config.sessions.staleAfterMs));
      const branches = await fetchSessionBranches(ctx, live);
      if (!branches.ok)
        warn(
          `warning: could not fetch the sessions' branches from ${ctx.config.remote} (${branches.detail}); predicted merge conflicts use what is known here.`,
        );
    }
  }
  const view = coordinationView(ctx);
  const identity = resolveIdentity(ctx);
  const me = identity?.id ?? null;
  const shown = values.all ? view.sessions : view.live;
  if (values.json) {
    printJson({
      researcher: me,
      sessions: shown.map(sessionJson),
      leases: view.leases,
      conflicts: view.conflicts,
    });
    return 0;
  }
  const c = colors();
  const title = values.all
    ? `${shown.length} session${shown.length === 1 ? '' : 's'}`
    : `${shown.length} active session${shown.length === 1 ? '' : 's'}`;
  print(c.bold(title) + (identity ? `  (you are ${identity.id}, known from ${identity.source})` : ''));
  for (const s of shown) print(sessionLine(s, ctx.nowMs, c));
  if (view.leases.length) {
    print('');
    print(c.bold('Leases'));
    for (const l of view.leases)
      print(`  ${l.pattern}  held by ${l.researcher} (session ${l.session}) until ${l.expiresAt}`);
  }
  print('');
  if (view.conflicts.length === 0) print(c.green('No conflicts between live sessions.'));
  else {
    print(c.bold(`${view.conflicts.length} conflict${view.conflicts.length === 1 ? '' : 's'}`));
    for (const conflict of view.conflicts) print(`  ${conflictLine(conflict, c)}`);
  }
  return 0;
}
