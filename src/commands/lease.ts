import { openContext } from '../context/context.js';
import { requireCurrentSession } from '../context/current-session.js';
import { agentEnvironment } from '../core/agent.js';
import { parse } from '../core/args.js';
import { type CommandSpec, pick } from '../core/command.js';
import { durationArg } from '../core/duration.js';
import { refusal, usageError } from '../core/errors.js';
import { colors, print, printJson, warn } from '../core/output.js';
import { withProgress } from '../core/progress.js';
import { aligned, until } from '../render/glance.js';
import {
  acquireLeases,
  currentLeases,
  leasePattern,
  refuseMissing,
  releaseLeases,
} from '../services/leases.js';

/** What `lease` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'lease',
  usage: [
    'lease acquire PATH... [--ttl D] [--reason TEXT] [--allow-missing] [--force --reason TEXT] [--session ID] [--quiet | --json]',
    'lease release PATH... | --all [--session ID] [--quiet | --json]',
    'lease list [--json]',
  ],
  summary: 'exclusive advisory leases on files and patterns',
  details: `A lease is held by a session on a path or a pattern (minimatch), read from the current
folder as git reads paths (:/PATH reads it from the top of the repository); a folder means
everything below it. A path that matches no tracked file and no file or folder is refused
(exit 2), with the spelling that works from here when it was meant from the top; --allow-missing
leases it before it exists. A lease is renewed by the session's heartbeats, and
expires after --ttl (default sessions.leaseTtl); ending the session releases it. Overlapping
leases of two sessions are never both granted, even from two machines at once: the remote
decides. A refusal (exit 1) says who holds it, since when and until when. --force breaks
another session's lease; it needs --reason, and who, when and why are recorded. Acquiring and
releasing need the remote (exit 3 when it cannot be reached). list shows the leases known here
(after the last sync).`,
  examples: [
    {
      run: 'lease acquire "protocol/**" --ttl 2h --reason "handshake rewrite"',
      says: "lease a folder's files for two hours",
    },
    { run: 'lease release --all', says: 'give back every lease of this session' },
    { run: 'lease list --json', says: 'the leases known here, as JSON' },
  ],
  options: {
    ttl: { type: 'string' },
    reason: { type: 'string' },
    force: { type: 'boolean' },
    session: { type: 'string' },
    json: { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
    all: { type: 'boolean' },
    'allow-missing': { type: 'boolean' },
  },
} as const satisfies CommandSpec;

/** `lease acquire|release|list`: argument handling and rendering only; services/leases.ts decides. */
export async function run(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === 'acquire') return acquire(rest);
  if (verb === 'release') return release(rest);
  if (verb === 'list' || verb === undefined) return list(rest);
  throw usageError(
    `git consortium lease takes acquire, release or list, not ${JSON.stringify(verb)}. See git consortium help lease.`,
  );
}

async function acquire(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    'lease acquire',
    argv,
    pick(command, ['ttl', 'reason', 'force', 'session', 'json', 'quiet', 'allow-missing']),
    [1, 256, 'the PATH (or pattern) to lease'],
  );
  const ttlMs = values.ttl === undefined ? undefined : durationArg('--ttl', values.ttl);
  if (ttlMs === 0) throw usageError('--ttl must be longer than 0s.');
  const reason = values.reason?.trim() || null;
  if (values.reason !== undefined && (!reason || reason.length > 500 || /[\0-\x08\x0b-\x1f]/.test(reason)))
    throw usageError('--reason takes a short text (up to 500 characters).');
  // Breaking a lease is a person's decision: an agent is not told how to word one.
  const agent = agentEnvironment();
  if (values.force && agent)
    throw refusal(
      `Breaking another session's lease is a person's decision, and this runs under an agent (${agent.name}). Nothing was acquired.`,
      [{ kind: 'ask-person' }],
    );
  if (values.force && !reason)
    throw usageError("--force breaks another session's lease and is recorded: say why with --reason TEXT.");
  const ctx = await openContext();
  const wanted = positionals.map((input) => ({ input, pattern: leasePattern(ctx, input) }));
  if (!values['allow-missing']) refuseMissing(ctx, wanted);
  const patterns = [...new Set(wanted.map((w) => w.pattern))];
  const session = requireCurrentSession(ctx, values.session);
  const result = await withProgress(
    `Asking ${ctx.config.remote} for the lease`,
    () =>
      acquireLeases(ctx, session, {
        patterns,
        ttlMs: ttlMs ?? ctx.config.sessions.leaseTtlMs,
        reason,
        force: !!values.force,
      }),
    { quiet: !!values.json || !!values.quiet },
  );
  if (values.json) {
    printJson({ session: session.id, leases: result.leases, broke: result.broke });
    return 0;
  }
  if (values.quiet) return 0;
  const c = colors();
  for (const b of result.broke)
    print(
      c.yellow(
        `Broke the lease of ${b.researcher} (session ${ctx.shortId(b.session)}) on ${b.pattern}: ${reason}`,
      ),
    );
  for (const l of result.leases)
    print(
      `Leased ${c.bold(l.pattern)} to session ${ctx.shortId(session.id)} (${session.researcher}), ${until(l.expiresAt, ctx.nowMs)}.`,
    );
  return 0;
}

async function release(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    command.name,
    argv,
    pick(command, ['all', 'session', 'json', 'quiet']),
    [0, 256],
  );
  if (!values.all && positionals.length === 0)
    throw usageError('lease release needs the paths to release, or --all. See git consortium help lease.');
  if (values.all && positionals.length)
    throw usageError('lease release takes either paths or --all, not both.');
  const ctx = await openContext();
  const patterns = values.all ? 'all' : [...new Set(positionals.map((p) => leasePattern(ctx, p)))];
  const session = requireCurrentSession(ctx, values.session);
  const result = await withProgress(
    `Releasing with ${ctx.config.remote}`,
    () => releaseLeases(ctx, session, patterns),
    {
      quiet: !!values.json || !!values.quiet,
    },
  );
  if (patterns !== 'all' && result.released.length === 0)
    throw refusal(
      `Session ${ctx.shortId(session.id)} holds no lease on ${result.notHeld.join(', ')}; nothing was released.`,
    );
  if (values.json) {
    printJson({ session: session.id, released: result.released, notHeld: result.notHeld });
    return 0;
  }
  if (values.quiet) return 0;
  if (result.released.length === 0) print(`Session ${ctx.shortId(session.id)} held no leases.`);
  else print(`Released ${result.released.join(', ')} (session ${ctx.shortId(session.id)}).`);
  if (result.notHeld.length) warn(`Not held by this session, so not released: ${result.notHeld.join(', ')}.`);
  return 0;
}

async function list(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, pick(command, ['json']));
  const ctx = await openContext();
  const leases = currentLeases(ctx);
  if (values.json) {
    printJson({ leases });
    return 0;
  }
  if (leases.length === 0) {
    print('No leases are held.');
    return 0;
  }
  const c = colors();
  const rows = leases.map((l) => [
    c.bold(l.pattern),
    l.researcher,
    ctx.shortId(l.session),
    until(l.expiresAt, ctx.nowMs),
    `${l.forced ? c.yellow('taken by force') : ''}${l.forced && l.reason ? ': ' : ''}${l.reason ?? ''}`,
  ]);
  for (const line of aligned(rows, '')) print(line);
  return 0;
}
