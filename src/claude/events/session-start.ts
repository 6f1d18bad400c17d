import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Context } from '../../context/context.js';
import { resolveIdentity } from '../../context/identity.js';
import { iso, now } from '../../core/clock.js';
import { ConsortiumError } from '../../core/errors.js';
import { backgroundAllowed } from '../../core/process.js';
import { agentOrientation } from '../../render/orientation.js';
import { handoffOf } from '../../services/handoff.js';
import { gitHooksFolder } from '../../services/hooks-active.js';
import { worktreeHooks } from '../../services/install.js';
import { refreshLineIndexDetached, updateLineIndex } from '../../services/line-index.js';
import { orientationOf } from '../../services/orientation.js';
import { authorFor, refreshSession, sessionsOn, startSession } from '../../services/sessions.js';
import { sessionRef } from '../../store/refs.js';
import { fetchCoordination, shareInBackground } from '../../store/remote.js';
import { type Session, updateSession } from '../../store/sessions.js';
import { contextAt, sessionOfConversation } from '../conversation.js';
import { type ClaudeEvent, type HookAnswer, silent, specific } from '../event.js';

/** How long SessionStart waits for the remote: an offline laptop starts 3 s later at most. */
const FETCH_MS = 3000;

/**
 * SessionStart (startup, resume, clear, compact): registers the conversation's session, or
 * resumes the one already bound to its session_id, on the branch that is checked out (a hook
 * never switches the user's branch); exports CONSORTIUM_SESSION for the agent's own commands;
 * and answers with the orientation and the latest handoff, which after `compact` is what
 * brings the conversation's context back.
 */
export async function sessionStart(event: ClaudeEvent): Promise<HookAnswer> {
  const ctx = await contextAt(event.cwd);
  if (!ctx) return silent;
  const warnings: string[] = [];
  // Start from what the others are doing now.
  const fetched = await fetchCoordination(ctx.repo, ctx.config, FETCH_MS);
  if (!fetched.ok && fetched.reason !== 'no-remote')
    warnings.push(
      `the coordination state could not be fetched (${fetched.detail}): what follows may be out of date.`,
    );
  ctx.invalidate();
  // The session's record, written below, is shared by the detached process that also brings
  // the others' changed lines (one process, not two): what the conversation waits for is local.
  const share: string[] = [];
  let session = sessionOfConversation(ctx, event.sessionId);
  let action: string;
  if (session) {
    session = refreshSession(ctx, session, { force: true, share: 'none' });
    share.push(sessionRef(session.id));
    action = `Resumed session ${session.id} (${session.branch ?? 'detached HEAD'}, ${session.worktree}).`;
  } else {
    let researcher: string | undefined;
    try {
      researcher = resolveIdentity(ctx)?.id;
    } catch (error) {
      if (!(error instanceof ConsortiumError)) throw error;
      warnings.push(error.message);
    }
    if (!researcher) return noIdentity(ctx.researchers.keys(), warnings);
    const branch = ctx.branch ?? null;
    const here = sessionsOn(ctx, ctx.repo.top, branch);
    // A session the researcher started by hand here (git consortium start, or a checkout of a
    // session branch) is the one this conversation works in: bind it rather than add a second
    // session on the same worktree and branch.
    // One conversation at a time: a second one in the same folder gets a session of its own.
    const adoptable = here.find(
      (s) =>
        s.researcher === researcher &&
        s.agent.kind === 'human' &&
        (!s.conversation || s.conversation.sessionId === event.sessionId),
    );
    if (adoptable) {
      session = bind(ctx, adoptable, event.sessionId);
      share.push(sessionRef(session.id));
      action =
        `You work in session ${session.id}, which ${session.researcher} started here by hand on ${session.branch ?? 'detached HEAD'}. ` +
        'It stays theirs: it goes on, with its leases, when this conversation ends.';
    } else {
      if (here.length)
        warnings.push(
          `${here.map((s) => `session ${s.id} of ${s.researcher}`).join(', ')} already work${here.length === 1 ? 's' : ''} on this worktree and branch: ` +
            'two agents in one folder overwrite each other. Ask the user to start you in a worktree of your own (claude --worktree, or git consortium start --worktree).',
        );
      const started = await startSession(ctx, {
        researcher,
        branch: 'current',
        shared: here.length > 0,
        agent: { kind: 'claude-code', sessionId: event.sessionId },
        // Where nothing runs detached (tests), pushed here and now, as before.
        share: backgroundAllowed() ? 'caller' : 'wait',
      });
      session = started.session;
      share.push(sessionRef(session.id));
      action = `Registered session ${session.id} on ${session.branch ?? 'detached HEAD'} in ${session.worktree}.`;
    }
  }
  if (process.env.CLAUDE_ENV_FILE) {
    try {
      exportTo(process.env.CLAUDE_ENV_FILE, {
        CONSORTIUM_SESSION: session.id,
        CONSORTIUM_RESEARCHER: session.researcher,
      });
      action += ' Your git consortium commands act on it (CONSORTIUM_SESSION is set).';
    } catch (error) {
      warnings.push(
        `CONSORTIUM_SESSION could not be written to CLAUDE_ENV_FILE (${(error as Error).message}): pass --session ${session.id} to the git consortium commands that act on your session.`,
      );
    }
  }
  // The others' changed lines, for the warnings at each edit (services/line-index.ts): their
  // branches are fetched by a detached process, as after a push, so that the conversation
  // starts once the records are here, however large a branch is. Until that process is done
  // (usually under a second), the edits are checked against the index as it was.
  if (fetched.ok) await refreshLineIndexDetached(ctx, FETCH_MS, share);
  else {
    updateLineIndex(ctx);
    shareInBackground(ctx.repo, share);
  }
  // Claude Code's own worktrees (.claude/worktrees/) must run the git hooks like any other.
  const hooks = worktreeHooks(ctx.repo, ctx.repo.top, gitHooksFolder(ctx));
  if (!hooks.active) warnings.push(`the git hooks do not run in this worktree (${hooks.problem}).`);
  const orientation = orientationOf(
    ctx,
    { id: session.researcher, source: `your session ${session.id}` },
    { markLooked: false },
  );
  // After compaction, this conversation's own handoff (PreCompact wrote it) comes first.
  const found = (event.source === 'compact' ? handoffOf(session) : undefined) ?? orientation.handoff;
  const handoff = found && { text: found.markdown, session: found.session, at: found.at };
  const text = agentOrientation(orientation, {
    session,
    action,
    handoff,
    warnings,
    protocol: ctx.config.protocol,
    nowMs: ctx.nowMs,
  });
  return { output: specific('SessionStart', { additionalContext: text }), code: 0 };
}

/**
 * A conversation joins a session a person started: the record keeps the person's own agent
 * marker and names the conversation beside it, so that SessionEnd knows the session is not the
 * conversation's to end. The caller shares the record.
 */
function bind(ctx: Context, session: Session, conversation: string): Session {
  const at = iso(now());
  const bound = updateSession(
    ctx.repo,
    session.id,
    'conversation joins',
    (record) =>
      record.state !== 'active'
        ? undefined
        : {
            ...record,
            conversation: { kind: 'claude-code', sessionId: conversation, since: at },
            heartbeatAt: at,
          },
    authorFor(ctx, session.researcher),
  );
  ctx.invalidate();
  return bound ?? session;
}

function noIdentity(researchers: Iterable<string>, warnings: string[]): HookAnswer {
  const list = [...researchers];
  const example = list[0] ?? 'your-id';
  const text = [
    'git-consortium: no session was registered for this conversation: it cannot tell which researcher you work for.',
    ...warnings.map((w) => `Warning: ${w}`),
    `Start Claude Code inside your workspace folder, or set CONSORTIUM_RESEARCHER=${example}, or run git config consortium.researcher ${example}` +
      (list.length ? ` (researchers: ${list.join(', ')}).` : '.'),
  ].join('\n');
  return { output: specific('SessionStart', { additionalContext: text }), code: 0 };
}

/**
 * Writes `export NAME=value` lines into Claude Code's env file (sourced before each Bash
 * command of the conversation), replacing earlier values of the same names.
 */
export function exportTo(file: string, vars: Record<string, string>): void {
  let lines: string[] = [];
  try {
    lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  } catch {
    // a new file
  }
  const names = Object.keys(vars);
  lines = lines.filter((l) => !names.some((n) => l.startsWith(`export ${n}=`)));
  // Ids are letters, digits, '.', '_', '-' (checked everywhere they enter): safe in quotes.
  for (const [name, value] of Object.entries(vars)) lines.push(`export ${name}='${value}'`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${lines.join('\n')}\n`);
}
