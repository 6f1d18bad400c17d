import { patternsOverlap } from '../analysis/leases.js';
import { isLive } from '../analysis/state.js';
import { type Context, openContext } from '../context/context.js';
import { resolveIdentity } from '../context/identity.js';
import { parse } from '../core/args.js';
import type { CommandSpec } from '../core/command.js';
import { colors, print, printJson, warn } from '../core/output.js';
import { matchesAny } from '../core/patterns.js';
import { sessionJson } from '../render/json.js';
import { statusLines } from '../render/status.js';
import { inactiveHooks } from '../services/hooks-active.js';
import { leasePattern } from '../services/leases.js';
import { refreshLineIndex } from '../services/line-index.js';
import { fetchSessionBranches, sessionBranchRefspecs } from '../services/predict.js';
import { coordinationView, type SessionView } from '../services/view.js';
import { fetchCoordination } from '../store/remote.js';

/** `status RESEARCHER` or `status PATH`: the sessions it keeps, and how the summary names it. */
function narrowing(ctx: Context, word: string): { label: string; session: (s: SessionView) => boolean } {
  if (ctx.researchers.has(word) || ctx.sessions().sessions.some((s) => s.researcher === word))
    return { label: `sessions of ${word}`, session: (s) => s.researcher === word };
  const pattern = leasePattern(ctx, word);
  const meets = (file: string) => matchesAny(file, [pattern]) || patternsOverlap(file, pattern);
  return {
    label: `sessions working on ${pattern}`,
    session: (s) =>
      [...s.changedFiles, ...s.touchedFiles].some(meets) || s.leases.some((l) => patternsOverlap(l, pattern)),
  };
}

/** What `status` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'status',
  usage: ['status [RESEARCHER | PATH] [-r ID] [--long] [--all] [--fetch] [--json]'],
  summary: "every researcher's active sessions, leases and conflicts",
  details: `Lists the active sessions of every researcher (all states with --all), the leases held and
the conflicts between live sessions: lease, protocol, worktree, and merge (the committed work
of two sessions that changed the same files, merged speculatively without touching any
worktree: their pushed branches, or the heads their records hold, and your own branches).
Reads local state only, unless --fetch first brings the remote's coordination state and the
live sessions' pushed branches. One line per session, lease and conflict (--long: every
detail); RESEARCHER or PATH narrows the list to that researcher's sessions, or to the sessions
that change, touch or lease that path, and their conflicts. Always exits 0.`,
  examples: [
    { run: 'status', says: 'every live session, lease and predicted conflict' },
    { run: 'status --fetch', says: 'the same, after fetching what the other machines shared' },
    { run: 'status protocol/spec.md --long', says: 'only the sessions working on that file, in full' },
  ],
  options: {
    json: { type: 'boolean' },
    all: { type: 'boolean' },
    fetch: { type: 'boolean' },
    long: { type: 'boolean' },
    researcher: { type: 'string', short: 'r' },
  },
} as const satisfies CommandSpec;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(command.name, argv, command.options, [0, 1]);
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
      // The index from those branches (or, when they could not come, from what is here).
      await refreshLineIndex(ctx, branches.ok ? sessionBranchRefspecs(ctx, live) : []);
    }
  }
  const view = coordinationView(ctx);
  const identity = resolveIdentity(ctx);
  const me = identity?.id ?? null;
  const only = positionals[0] === undefined ? undefined : narrowing(ctx, positionals[0]);
  const shown = (values.all ? view.sessions : view.live).filter((s) => !only || only.session(s));
  const ids = new Set(shown.map((s) => s.id));
  const leases = view.leases.filter((l) => !only || ids.has(l.session));
  const conflicts = view.conflicts.filter((x) => !only || x.sessions.some((id) => ids.has(id)));
  if (values.json) {
    printJson({ researcher: me, sessions: shown.map(sessionJson), leases, conflicts });
    return 0;
  }
  const text = {
    sessions: shown,
    leases,
    conflicts,
    me: identity ?? null,
    all: !!values.all,
    nowMs: ctx.nowMs,
    short: (id: string) => ctx.shortId(id),
  };
  for (const line of statusLines({ ...text, only: only?.label }, colors(), { long: !!values.long }))
    print(line);
  return 0;
}
