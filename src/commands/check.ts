import { openContext } from '../context/context.js';
import { findCurrentSession } from '../context/current-session.js';
import { parse } from '../core/args.js';
import type { CommandSpec } from '../core/command.js';
import { refusal, usageError } from '../core/errors.js';
import { colors, print, printJson, warn } from '../core/output.js';
import { revisionsOf } from '../git/refs.js';
import { resolveCommit } from '../git/repo.js';
import { gateReport } from '../render/gate.js';
import { conflictJson, lineMeetingJson } from '../render/json.js';
import { sideBySide } from '../render/lines.js';
import { repoPath } from '../services/edit-check.js';
import { currentText, theirTexts, worktreeMeetings } from '../services/line-check.js';
import { fetchAndIndex, refreshLineIndexDetached, updateLineIndex } from '../services/line-index.js';
import { checkPush, type PushTarget } from '../services/push-check.js';
import { wayOutOf } from '../services/push-record.js';

/** What `check` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'check',
  usage: [
    'check [-r ID] [--json] [--no-fetch] [REVISION-RANGE]',
    'check --lines [-r ID] [--json] [--no-fetch] [PATH]',
  ],
  summary: 'the conflicts a push would meet, without pushing',
  details: `Runs the pre-push analysis on the commits of REVISION-RANGE (default: what the current
branch would push) against the other live sessions: leases, protocol files, predicted merges and
other researchers' workspaces, each with what policy does with it (block or warn). Like the gate
it first brings the coordination state from the remote, bounded in time; --no-fetch uses what is
known here. Exits 1 when there are conflicts.

With --lines it looks at lines instead: the lines your working tree changes (committed or not)
that meet lines another live session's branch changed, at or within 3 lines, for every file
(or those under PATH), both sides shown next to each other. Exits 1 when there are some.`,
  examples: [
    { run: 'check', says: 'what a push of this branch would meet now' },
    { run: 'check --no-fetch origin/main..HEAD', says: 'for a range of commits, from what is known here' },
    {
      run: 'check --lines analysis/',
      says: 'my changed lines under analysis/ that other live sessions changed too',
    },
  ],
  options: {
    json: { type: 'boolean' },
    lines: { type: 'boolean' },
    'no-fetch': { type: 'boolean' },
    researcher: { type: 'string', short: 'r' },
  },
} as const satisfies CommandSpec;

/**
 * `check [REVISION-RANGE]`: exactly the pre-push gate's analysis, without pushing. Default:
 * what the current branch would push (its commits the remote does not have). Like the gate it
 * first brings the coordination state from the remote, within a bounded time (--no-fetch:
 * what is known here). Exit 1 when there are conflicts.
 */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(command.name, argv, command.options, [0, 1]);
  const ctx = await openContext(undefined, { researcher: values.researcher });
  if (values.lines)
    return checkLines(ctx, positionals[0], { json: !!values.json, fetch: !values['no-fetch'] });
  const target = positionals[0] === undefined ? currentBranchTarget(ctx) : rangeTarget(ctx, positionals[0]);
  const check = await checkPush(ctx, [target], { fetch: !values['no-fetch'] });
  // The fetch brought the others' newest records: their changed lines, for the edits to come.
  if (check.fetched) await refreshLineIndexDetached(ctx, undefined, [], check.carried);
  if (values.json) {
    printJson({
      conflicts: check.conflicts.map(conflictJson),
      blocked: check.blocked,
      offline: check.offline ?? null,
      refs: check.refs.map((r) => ({
        ref: r.ref,
        tip: r.tip,
        commits: r.commits.map((c) => c.sha),
        files: r.files,
        session: r.session?.id ?? null,
        researcher: r.researcher ?? null,
      })),
    });
  } else {
    const c = colors();
    const ref = check.refs[0]!;
    print(
      `${ref.commits.length} commit${ref.commits.length === 1 ? '' : 's'} to push from ${ref.ref.replace(/^refs\/heads\//, '')}, changing ${ref.files.length} file${ref.files.length === 1 ? '' : 's'}` +
        (ref.session ? ` (session ${ctx.shortId(ref.session.id)} of ${ref.session.researcher})` : '') +
        '.',
    );
    // The gate's own words (its way out included, worded for a person or an agent), as a push would print them.
    const words = {
      way: wayOutOf(ctx, check),
      c,
      short: (id: string) => ctx.shortId(id),
      nowMs: ctx.nowMs,
      mode: 'check' as const,
    };
    for (const line of gateReport(check, words)) print(line);
    if (check.conflicts.length === 0) print(c.green('No conflicts: the push would go through.'));
    else if (!check.blocked)
      print(c.green('Nothing blocks it: the push would go through, with the warnings above.'));
  }
  return check.conflicts.length > 0 || check.blocked ? 1 : 0;
}

/** What `git push` of the current branch would send: its commits not on the remote. */
function currentBranchTarget(ctx: Awaited<ReturnType<typeof openContext>>): PushTarget {
  const tip = resolveCommit(ctx.repo, 'HEAD');
  if (!tip) throw refusal('There is nothing to check: this repository has no commit yet.');
  const branch = ctx.branch;
  return {
    ref: branch ? `refs/heads/${branch}` : 'HEAD',
    tip,
    commits: { tip, notOnRemote: ctx.config.remote },
  };
}

/** A revision range as git reads it (A..B, A...B, B ^A, or one revision: its unpushed commits). */
function rangeTarget(ctx: Awaited<ReturnType<typeof openContext>>, range: string): PushTarget {
  const revs = revisionsOf(ctx.repo, range) ?? [];
  const positive = revs.find((r) => !r.startsWith('^'));
  if (!positive)
    throw usageError(`${JSON.stringify(range)} is not a revision range git knows (try main..HEAD).`);
  const single = revs.length === 1;
  return {
    ref: range,
    tip: positive,
    commits: single ? { tip: positive, notOnRemote: ctx.config.remote } : { range },
  };
}

/**
 * `check --lines [PATH]`: my working tree's changed lines met with the other live sessions'
 * (services/line-check.ts), after bringing their records and branches here (as sync does).
 */
async function checkLines(
  ctx: Awaited<ReturnType<typeof openContext>>,
  under: string | undefined,
  options: { json: boolean; fetch: boolean },
): Promise<number> {
  const prefix = under === undefined ? undefined : repoPath(ctx, under);
  // Nothing to meet: the consortium turned the check off (policy.lines: off).
  if (ctx.config.policy.lines === 'off') {
    if (options.json) printJson({ lines: [], off: true });
    else
      print(
        `The line check is off in this consortium (policy.lines: off in ${ctx.config.file ?? 'its configuration'}).`,
      );
    return 0;
  }
  const fetched = options.fetch ? await fetchAndIndex(ctx) : undefined;
  if (!options.fetch) updateLineIndex(ctx);
  if (fetched && !fetched.ok && fetched.reason !== 'no-remote')
    warn(
      `warning: could not fetch from ${ctx.config.remote} (${fetched.detail}); showing what is known here.`,
    );
  const me = findCurrentSession(ctx, { quiet: true });
  const found = worktreeMeetings(ctx, me, prefix);
  if (options.json) {
    printJson({ lines: found.flatMap((w) => w.meetings.map(lineMeetingJson)) });
    return found.length ? 1 : 0;
  }
  const where = prefix ? ` under ${prefix}` : '';
  if (found.length === 0) {
    print(colors().green(`None of the lines you changed${where} meet lines another live session changed.`));
    return 0;
  }
  const texts = theirTexts(ctx, found);
  const width = process.stdout.columns || 120;
  for (const w of found)
    for (const line of sideBySide(
      w,
      currentText(ctx, w.path),
      (m) => texts.get(`${m.tip}:${m.theirPath}`),
      width,
    ))
      print(line);
  return 1;
}
