import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { blocking } from '../analysis/push.js';
import { iso, now } from '../core/clock.js';
import { nodeCrypto } from '../core/lazy-modules.js';
import { colors, warn } from '../core/output.js';
import { notesOf } from '../git/notes.js';
import { peelCommits } from '../git/repo.js';
import { GitDeadline, setGitDeadline } from '../git/run.js';
import { gateReport } from '../render/gate.js';
import { conflictJson } from '../render/json.js';
import { checkPush, type PushCheck, type PushTarget } from '../services/push-check.js';
import { addNotes, type NoteEntry, parseNote } from '../store/notes.js';
import { NOTES_REF } from '../store/refs.js';
import { openBareRepo, ServerContext, serverConfig } from './context.js';
import { checkCoordination, isCoordinationRef, type RefUpdate } from './coordination.js';
import { type Pusher, whoPushes } from './identity.js';
import { writeAllowedSigners, writeOnError } from './install.js';

/**
 * The gate on the server (SPEC section 13), run by the pre-receive hook that `server install`
 * writes: git gives one `<old> <new> <ref>` line per ref on stdin, and a non-zero exit refuses
 * the whole push. Coordination refs are kept whole (server/coordination.ts); every other ref
 * that brings commits meets the same analysis as the clients' pre-push gate, against the
 * server's own records, under server.policy. The whole check is bounded; a crash or time-out
 * is decided by server.onError.
 *
 * git runs pre-receive with the pushed objects in quarantine, where no ref may be written, so
 * what landed (an override) is recorded by post-receive, from a note this hook leaves in the
 * repository's consortium folder.
 */
export const SPEAKER = 'git-consortium server';
export const OVERRIDE_OPTION = 'consortium.override';
const ZEROS = /^0+$/;

const timeoutMs = () => Number(process.env.CONSORTIUM_SERVER_TIMEOUT_MS) || 10_000;

export async function preReceive(input: string, cwd = process.cwd()): Promise<number> {
  const updates = parseUpdates(input);
  if (updates.length === 0) return 0;
  const started = Date.now();
  const limit = timeoutMs();
  setGitDeadline(started + limit);
  let onError: 'refuse' | 'allow' = 'refuse';
  // A check stuck outside git (no process to kill) is stopped here.
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(failed(onError, `it took longer than ${limit / 1000}s`)), limit + 500);
  });
  try {
    return await Promise.race([
      stuck,
      (async () => {
        const repo = openBareRepo(cwd);
        const server = await serverConfig(repo);
        onError = server.config.server.onError;
        writeOnError(repo, server.config);
        if (server.config.server.identity === 'signed') writeAllowedSigners(repo, server.config);
        return await decide(new ServerContext(repo, server), updates);
      })(),
    ]);
  } catch (error) {
    const reason =
      error instanceof GitDeadline
        ? `it took longer than ${limit / 1000}s`
        : `it failed: ${(error as Error).message}`;
    return failed(onError, reason);
  } finally {
    clearTimeout(timer);
    setGitDeadline(undefined);
  }
}

function failed(onError: 'refuse' | 'allow', reason: string): number {
  const then =
    onError === 'allow'
      ? 'server.onError is allow, so the push goes ahead unchecked.'
      : 'server.onError is refuse, so the push is refused.';
  warn(`${SPEAKER}: the gate could not check this push: ${reason}; ${then}`);
  warn(
    `${SPEAKER}: the server's administrator can see why with: git consortium server doctor --repo <this repository>`,
  );
  return onError === 'allow' ? 0 : 1;
}

async function decide(ctx: ServerContext, updates: RefUpdate[]): Promise<number> {
  if (ctx.server.problem)
    warn(
      `${SPEAKER}: warning: the configuration does not read (${ctx.server.problem}); checked with the defaults.`,
    );
  const pusher = whoPushes(ctx.config, ctx.researchers);
  const coordination = updates.filter((u) => isCoordinationRef(u.ref));
  const refusals = checkCoordination(
    {
      repo: ctx.repo,
      config: ctx.config,
      nowMs: ctx.nowMs,
      pusher,
      sessions: new Map(
        ctx
          .sessions()
          .sessions.filter((s) => s.source === 'local')
          .map((s) => [s.id, s]),
      ),
    },
    coordination,
  );
  for (const r of refusals) warn(`${SPEAKER}: refused ${r.ref} (rule: ${r.rule}): ${r.message}`);
  if (refusals.length) return 1;

  const targets = pushedWork(
    ctx,
    updates.filter((u) => !isCoordinationRef(u.ref)),
  );
  if (targets.length === 0) return 0;
  const check = await checkPush(ctx, targets, {
    fetch: false,
    onServer: { policy: ctx.config.server.policy, pusher: pusher.researcher },
  });
  if (check.offline?.kind === 'budget') throw new GitDeadline(check.offline.detail);
  const override = check.blocked ? overrideFor(ctx, check, pusher) : undefined;
  const lines = gateReport(check, {
    override: override && { reason: override.reason, actor: 'person' },
    way: { kind: 'server' },
    c: colors(false, 2),
    short: (id) => ctx.shortId(id),
    nowMs: ctx.nowMs,
    speaker: SPEAKER,
  });
  for (const line of lines) warn(line);
  if (check.blocked && !override) return 1;
  if (override?.via === 'push option')
    keepForPostReceive(ctx, updates, overrideNotes(check, override, pusher));
  return 0;
}

/** `<old> <new> <ref>` lines as git writes them; anything else is not git's and is left out. */
export function parseUpdates(input: string): RefUpdate[] {
  const updates: RefUpdate[] = [];
  for (const line of input.split('\n')) {
    const m = /^([0-9a-f]{40}(?:[0-9a-f]{24})?) ([0-9a-f]{40}(?:[0-9a-f]{24})?) (refs\/\S+)$/.exec(
      line.trim(),
    );
    if (m) updates.push({ old: m[1]!, new: m[2]!, ref: m[3]! });
  }
  return updates;
}

/**
 * The refs that bring work: every update other than a deletion, peeled to its commit (a tag
 * only when it brings commits no ref here holds); `--not --all` selects the commits new to
 * the server, as the refs stand before this push.
 */
function pushedWork(ctx: ServerContext, updates: RefUpdate[]): PushTarget[] {
  const live = updates.filter((u) => !ZEROS.test(u.new));
  const peeled = peelCommits(ctx.repo, [...new Set(live.map((u) => u.new))]);
  const targets: PushTarget[] = [];
  const seenTags = new Set<string>();
  for (const u of live) {
    const tip = peeled.get(u.new);
    if (!tip) continue;
    if (u.ref.startsWith('refs/tags/')) {
      if (seenTags.has(tip)) continue;
      seenTags.add(tip);
    }
    targets.push({ ref: u.ref, tip, commits: { tip, not: ['--all'] }, pushedTo: u.ref });
  }
  return targets;
}

interface ServerOverride {
  reason: string;
  via: 'push option' | 'client record';
}

/**
 * Overrides the server accepts: a push option (`git push -o consortium.override=<reason>`,
 * for a push made without client hooks), or, for a push through the clients' gate, the
 * override record it sent ahead of the push: a pending override note on every pushed tip,
 * for that ref, by the pusher where the server knows them.
 */
function overrideFor(ctx: ServerContext, check: PushCheck, pusher: Pusher): ServerOverride | undefined {
  const option = pushOption(OVERRIDE_OPTION);
  if (option) return { reason: option, via: 'push option' };
  const notes = notesOf(
    ctx.repo,
    NOTES_REF,
    check.refs.map((r) => r.tip),
  );
  let reason: string | undefined;
  for (const ref of check.refs) {
    const sent = parseNote(notes.get(ref.tip) ?? '').find(
      (e) =>
        e.type === 'override' &&
        e.landed === null &&
        (e.pushedTo ?? e.ref) === ref.pushedTo &&
        typeof e.reason === 'string' &&
        e.reason.trim() &&
        (!pusher.known || e.by === pusher.researcher),
    );
    if (!sent) return undefined;
    reason ??= sent.reason as string;
  }
  return reason ? { reason, via: 'client record' } : undefined;
}

/** A push option's value (`-o name=value`), the last one given; undefined when absent or empty. */
function pushOption(name: string): string | undefined {
  const count = Number(process.env.GIT_PUSH_OPTION_COUNT) || 0;
  let value: string | undefined;
  for (let i = 0; i < count; i++) {
    const option = process.env[`GIT_PUSH_OPTION_${i}`] ?? '';
    if (option.startsWith(`${name}=`)) value = option.slice(name.length + 1).trim() || undefined;
  }
  return value;
}

function overrideNotes(
  check: PushCheck,
  override: ServerOverride,
  pusher: Pusher,
): { commit: string; entry: NoteEntry }[] {
  const conflicts = blocking(check.conflicts).map(conflictJson);
  return check.refs.map((ref) => ({
    commit: ref.tip,
    entry: {
      type: 'override',
      at: iso(now()),
      by: pusher.researcher ?? ref.researcher ?? 'unknown',
      actor: 'person',
      via: 'push option',
      recordedBy: 'server',
      identity: pusher.detail,
      session: ref.session?.id ?? null,
      ref: ref.ref,
      pushedTo: ref.pushedTo ?? ref.ref,
      reason: override.reason,
      landed: true,
      conflicts,
    },
  }));
}

/** Where pre-receive leaves what post-receive records once the push has landed. */
const pendingFile = (ctx: { repo: { gitDir: string } }, updates: RefUpdate[]) =>
  path.join(
    ctx.repo.gitDir,
    'consortium',
    'server-pending',
    `${nodeCrypto()
      .createHash('sha256')
      .update(updates.map((u) => `${u.old} ${u.new} ${u.ref}`).join('\n'))
      .digest('hex')
      .slice(0, 32)}.json`,
  );

function keepForPostReceive(
  ctx: ServerContext,
  updates: RefUpdate[],
  notes: { commit: string; entry: NoteEntry }[],
): void {
  const file = pendingFile(ctx, updates);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(notes));
}

/**
 * post-receive: the push has landed. The overrides the server accepted are recorded as notes
 * (by push option: the override itself, landed; sent by a client: a `landed` line for it),
 * so that `audit` and every clone's sync see them.
 */
export async function postReceive(input: string, cwd = process.cwd()): Promise<number> {
  const updates = parseUpdates(input);
  const branches = updates.filter((u) => !isCoordinationRef(u.ref) && !ZEROS.test(u.new));
  if (branches.length === 0) return 0;
  const repo = openBareRepo(cwd);
  const ctx = { repo };
  const file = pendingFile(ctx, updates);
  let notes: { commit: string; entry: NoteEntry }[] = [];
  try {
    notes = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // nothing kept by pre-receive: no override by push option in this push
  }
  rmSync(file, { force: true });
  const existing = notesOf(
    repo,
    NOTES_REF,
    branches.map((u) => u.new),
  );
  for (const u of branches) {
    for (const e of parseNote(existing.get(u.new) ?? '')) {
      if (e.type !== 'override' || e.landed !== null || (e.pushedTo ?? e.ref) !== u.ref) continue;
      notes.push({
        commit: u.new,
        entry: {
          type: 'landed',
          at: iso(now()),
          override: e.at,
          by: e.by,
          ref: u.ref,
          landed: true,
          recordedBy: 'server',
        },
      });
    }
  }
  if (notes.length === 0) return 0;
  const author = { name: 'git-consortium server', email: 'git-consortium-server@consortium.invalid' };
  if (!addNotes(repo, notes, author)) {
    warn(
      `${SPEAKER}: warning: the override record could not be written to ${NOTES_REF}; the next client sync settles it.`,
    );
    return 0;
  }
  for (const { entry } of notes.filter((n) => n.entry.type === 'override'))
    warn(
      `${SPEAKER}: recorded the override of ${entry.ref} by ${entry.by}: ${JSON.stringify(entry.reason)}.`,
    );
  return 0;
}
