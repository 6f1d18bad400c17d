import { readSync } from 'node:fs';
import { userInfo } from 'node:os';
import { openContext } from '../context/context.js';
import { requireCurrentSession } from '../context/current-session.js';
import { requireIdentity } from '../context/identity.js';
import { agentEnvironment } from '../core/agent.js';
import { parse } from '../core/args.js';
import { iso } from '../core/clock.js';
import type { CommandSpec } from '../core/command.js';
import { durationArg, formatDuration } from '../core/duration.js';
import { refusal, usageError } from '../core/errors.js';
import { print, printJson } from '../core/output.js';
import { writeTo } from '../core/stdio.js';
import { until } from '../render/glance.js';
import { addApproval } from '../store/approvals.js';

/** What `approve` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'approve',
  usage: ['approve --reason TEXT [--session ID] [--ttl DURATION] [-r ID] [--json]'],
  summary: "let your agent's next blocked push through (a person's decision)",
  details: `Under policy.agentOverride ask, an agent's push that the gate blocks goes through only with a
person's approval. Run this in your own terminal, after looking at what blocks the push (git
consortium check): it lets the next blocked push of the session (the current one, or --session)
go past the gate once, within --ttl (default 30m), and the override that push makes records you
as its approver, with your reason, for everyone (git consortium audit). It asks you to type yes,
and it refuses to run under an agent or without a terminal. Under policy.agentOverride block an
agent never pushes past the gate: push it yourself; under allow agents need no approval.`,
  examples: [
    {
      run: 'approve --reason "the spec change was agreed at the meeting"',
      says: "let your agent's next blocked push through (policy.agentOverride: ask)",
    },
    {
      run: 'approve --reason "agreed with yuki" --ttl 10m --session 20261201-101500000-a1b2c3',
      says: 'for one session, valid ten minutes',
    },
  ],
  options: {
    session: { type: 'string' },
    reason: { type: 'string' },
    ttl: { type: 'string' },
    json: { type: 'boolean' },
    researcher: { type: 'string', short: 'r' },
  },
} as const satisfies CommandSpec;

const DEFAULT_TTL_MS = 30 * 60_000;

/**
 * `approve`: a person lets their agent's session push past the gate once (policy.agentOverride
 * `ask`). It is a person's decision, so it runs only at a terminal and never under an agent; the
 * override note of the push it lets through records who approved and why.
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, command.options);
  const agent = agentEnvironment();
  if (agent)
    throw refusal(
      `Only a person can approve a push past the gate, and this runs under an agent (${agent.name}). Ask a person to decide.`,
    );
  const reason = values.reason?.trim();
  if (!reason || reason.length > 500 || /[\0-\x08\x0b-\x1f]/.test(reason))
    throw usageError('Say why with --reason TEXT (up to 500 characters): it is recorded with the override.');
  const ttlMs = values.ttl === undefined ? DEFAULT_TTL_MS : durationArg('--ttl', values.ttl);
  if (ttlMs <= 0) throw usageError('--ttl must be longer than 0s.');
  const ctx = await openContext();
  const policy = ctx.config.policy.agentOverride;
  if (policy === 'allow')
    throw refusal(
      'policy.agentOverride is allow: agents may already push past the gate themselves; nothing to approve.',
    );
  if (policy === 'block')
    throw refusal(
      "policy.agentOverride is block: an agent's push never goes past the gate, approved or not. " +
        'If it should land, push it yourself from your own terminal: CONSORTIUM_OVERRIDE="<reason>" git push.',
    );
  const me = requireIdentity(ctx, values.researcher);
  const session = requireCurrentSession(ctx, values.session);
  if (!process.stdin.isTTY)
    throw refusal('approve asks for your confirmation at a terminal: run it in your own terminal.');
  const expiresAt = iso(new Date(ctx.nowMs + ttlMs));
  writeTo(
    2,
    `Let the next blocked push of session ${ctx.shortId(session.id)} (${session.researcher}, branch ${session.branch ?? 'detached'}) ` +
      `go past the gate, within ${formatDuration(ttlMs)}, because: ${reason}\nType yes to approve: `,
  );
  const answer = readLine();
  if (answer.trim().toLowerCase() !== 'yes') throw refusal('Not approved: nothing was changed.');
  const approval = {
    session: session.id,
    by: me.id,
    user: userInfo().username,
    reason,
    at: iso(new Date(ctx.nowMs)),
    expiresAt,
  };
  addApproval(ctx.repo, approval);
  if (values.json) printJson({ approval });
  else
    print(
      `Approved by ${me.id} (known from ${me.source}): the next blocked push of session ${ctx.shortId(session.id)} may go past the gate, ${until(expiresAt, ctx.nowMs)}; ` +
        'the override it makes records you as its approver.',
    );
  return 0;
}

/** One line typed at the terminal (read as the terminal hands it over: a whole line at a time). */
function readLine(): string {
  const buffer = Buffer.alloc(256);
  let line = '';
  for (;;) {
    let n = 0;
    try {
      n = readSync(0, buffer, 0, buffer.length, null);
    } catch {
      return line;
    }
    if (n === 0) return line;
    line += buffer.toString('utf8', 0, n);
    if (line.includes('\n') || line.length > 1024) return line.split('\n')[0]!;
  }
}
