import { openContext } from '../context/context.js';
import { requireIdentity } from '../context/identity.js';
import { parse } from '../core/args.js';
import type { CommandSpec } from '../core/command.js';
import { usageError } from '../core/errors.js';
import { colors, print, printJson, warn } from '../core/output.js';
import { withProgress } from '../core/progress.js';
import { validBranchName } from '../git/refs.js';
import { foldedLine } from '../render/checkpoint.js';
import { relative } from '../render/glance.js';
import { handoffJson, sessionJson } from '../render/json.js';
import { reportSharing } from '../render/sharing.js';
import { foldCheckpoints } from '../services/checkpoint-fold.js';
import { latestHandoff } from '../services/handoff.js';
import { inactiveHooks } from '../services/hooks-active.js';
import { type StartOptions, startSession } from '../services/sessions.js';
import { viewOf } from '../services/view.js';
import type { Agent } from '../store/sessions.js';

/** What `start` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'start',
  usage: [
    'start [-r ID] [--intent TEXT] [--branch NAME | --no-branch] [--from REV] [--worktree [PATH]] [--shared] [--quiet | --json]',
    'start --agent claude-code --agent-session ID [options]',
  ],
  summary: 'register a session and create its branch',
  details: `Registers a session for you, creates and checks out its branch
<prefix><researcher>-<yyyymmdd-hhmmss> (UTC) unless --branch names one or --no-branch keeps the
current branch, and shares it with the remote when the remote answers within a few seconds.
A new branch starts from the remote's default branch (fetched first when the remote answers),
never from the branch checked out here, unless --from REV says where. Refuses (exit 1) when
another active session already works on this worktree and branch, unless --shared.
--worktree [PATH] starts the session in a new linked worktree: at PATH (read from the current
folder), by default beside the main worktree, whatever folder you run it in.`,
  examples: [
    {
      run: 'start --intent "congestion window experiments"',
      says: 'start a session on a new session branch',
    },
    {
      run: 'start --worktree ../tcp-window',
      says: 'start it in a worktree of its own, so that it never shares a checkout',
    },
    { run: 'start --from HEAD', says: 'a new session branch that carries on from what is checked out here' },
  ],
  options: {
    // Its value is optional, which Node's parser cannot express: takeWorktree reads it first.
    worktree: { type: 'string' },
    researcher: { type: 'string', short: 'r' },
    intent: { type: 'string' },
    branch: { type: 'string' },
    from: { type: 'string' },
    'no-branch': { type: 'boolean' },
    shared: { type: 'boolean' },
    agent: { type: 'string' },
    'agent-session': { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
  },
} as const satisfies CommandSpec;

export async function run(argv: string[]): Promise<number> {
  const { args, worktree } = takeWorktree(argv);
  const { values } = parse(command.name, args, command.options);
  if (values.branch !== undefined && values['no-branch'])
    throw usageError('--branch and --no-branch cannot be used together.');
  if (worktree !== undefined && values['no-branch'])
    throw usageError('--worktree needs a branch of its own: leave out --no-branch.');
  if (values.from !== undefined && values['no-branch'])
    throw usageError('--from says where a new branch starts: leave out --no-branch.');
  // --shared alone joins the branch checked out here: no new branch, so nothing for --from.
  if (values.from !== undefined && values.shared && values.branch === undefined && worktree === undefined)
    throw usageError(
      '--from says where a new branch starts; --shared alone stays on the branch checked out here. Give --branch NAME or --worktree for a new one.',
    );
  const agent = agentOf(values.agent, values['agent-session']);
  const ctx = await openContext();
  const unprotected = inactiveHooks(ctx);
  if (unprotected) warn(unprotected);
  const identity = requireIdentity(ctx, values.researcher);
  let branch: StartOptions['branch'] = 'new';
  if (values['no-branch'] || (values.shared && values.branch === undefined && worktree === undefined))
    branch = 'current';
  if (values.branch !== undefined) branch = { name: checkBranchName(values.branch, ctx.repo.top) };
  const started = await withProgress(
    `Starting the session and sharing it with ${ctx.config.remote}`,
    () =>
      startSession(ctx, {
        researcher: identity.id,
        intent: values.intent,
        branch,
        shared: !!values.shared,
        agent,
        worktree,
        from: values.from,
      }),
    { quiet: !!values.json || !!values.quiet },
  );
  const view = viewOf(ctx, started.session);
  // Where the last session left off, and emergency checkpoints written while git was down.
  const checkpoints = foldCheckpoints(ctx, started.session).folded;
  const handoff = latestHandoff(ctx, identity.id, started.session.id);
  if (values.json) {
    printJson({
      ...sessionJson(view),
      ...(handoff ? { latestHandoff: handoffJson(handoff) } : {}),
      ...(checkpoints.length ? { foldedCheckpoints: checkpoints } : {}),
    });
    if (checkpoints.length) warn(foldedLine(checkpoints));
  } else if (!values.quiet) {
    const c = colors();
    print(
      `Started session ${c.bold(ctx.shortId(view.id))} for ${identity.id} (known from ${identity.source}), ` +
        `on ${view.branch ? `branch ${view.branch}` : 'a detached HEAD'}.`,
    );
    if (worktree !== undefined) print(`Work in: ${view.worktree}`);
    if (checkpoints.length) print(foldedLine(checkpoints));
    if (handoff) {
      // Where the last session left off: its summary and steps; handoff show has the whole document.
      print('');
      print(
        c.bold(
          `Where you left off (session ${ctx.shortId(handoff.session)}, ${relative(handoff.at, ctx.nowMs)}):`,
        ),
      );
      const summary = handoff.summary.trim().split('\n');
      for (const line of summary.slice(0, 6)) print(`  ${line}`);
      if (summary.length > 6) print('  ...');
      for (const step of (handoff.steps ?? []).slice(0, 6)) print(`  - ${step}`);
      print(c.dim(`  git consortium handoff show has all of it.`));
    }
  }
  return reportSharing(started.shared, 'the next sync or push');
}

/** `--worktree [PATH]`: the path is optional, which Node's parser cannot express. */
function takeWorktree(argv: string[]): { args: string[]; worktree?: string } {
  const args: string[] = [];
  let worktree: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      args.push(...argv.slice(i));
      break;
    }
    if (arg === '--worktree') {
      const next = argv[i + 1];
      worktree = next !== undefined && !next.startsWith('-') ? next : '';
      if (worktree) i++;
    } else if (arg.startsWith('--worktree=')) {
      worktree = arg.slice('--worktree='.length);
    } else args.push(arg);
  }
  return { args, worktree };
}

function agentOf(kind: string | undefined, sessionId: string | undefined): Agent {
  if (kind === undefined || kind === 'human') {
    if (sessionId !== undefined) throw usageError('--agent-session goes with --agent claude-code.');
    return { kind: 'human' };
  }
  if (kind !== 'claude-code')
    throw usageError(`--agent takes claude-code or human, not ${JSON.stringify(kind)}.`);
  if (!sessionId || !/^[A-Za-z0-9._:-]{1,128}$/.test(sessionId)) {
    throw usageError(
      '--agent claude-code needs --agent-session with the Claude Code session id (letters, digits, ".", "_", ":" or "-").',
    );
  }
  return { kind: 'claude-code', sessionId };
}

function checkBranchName(name: string, cwd: string): string {
  if (!validBranchName(cwd, name)) {
    throw usageError(`${JSON.stringify(name)} is not a valid branch name.`);
  }
  return name;
}
