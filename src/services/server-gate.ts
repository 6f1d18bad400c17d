import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { blocking } from '../analysis/push.js';
import { type Pusher, whoPushes } from '../context/pusher.js';
import { type ServerContext, serverConfig } from '../context/server-context.js';
import { iso, now } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { nodeCrypto } from '../core/lazy-modules.js';
import { notesOf } from '../git/notes.js';
import { peelCommits, type Repo } from '../git/repo.js';
import { conflictJson } from '../render/json.js';
import { addNotes, type NoteEntry, parseNote } from '../store/notes.js';
import { NOTES_REF } from '../store/refs.js';
import { checkCoordination, isCoordinationRef, type RefUpdate, type Refusal } from './coordination-guard.js';
import { checkPush, type PushCheck, type PushTarget } from './push-check.js';

/**
 * The gate on the server (SPEC section 13), as the pre-receive and post-receive hooks that
 * `server install` writes run it (hooks/pre-receive.ts, hooks/post-receive.ts). Coordination
 * refs are kept whole (coordination-guard.ts); every other ref that brings commits meets the
 * same analysis as the clients' pre-push gate, against the server's own records, under
 * server.policy. git runs pre-receive with the pushed objects in quarantine, where no ref may
 * be written, so what landed (an override) is recorded by post-receive, from a file that
 * pre-receive leaves in the repository's consortium folder.
 */
export const OVERRIDE_OPTION = 'consortium.override';
const ZEROS = /^0+$/;

/**
 * The commits new to the server's work: those no branch, tag or other ref of work holds yet.
 * The coordination refs and the notes are left out, so that a commit parked under them is
 * still checked when a branch brings it.
 */
const WORK_REFS = ['--exclude=refs/consortium*', '--exclude=refs/notes/*', '--all'];

export interface ServerVerdict {
  pusher: Pusher;
  /** Coordination refs that would not stay whole: the push is refused. */
  refusals: Refusal[];
  /** The gate's analysis of the work pushed (undefined when the push brings none). */
  check?: PushCheck;
  /** An override the server accepts for a blocked push. */
  override?: ServerOverride;
}

export async function judgePush(ctx: ServerContext, updates: RefUpdate[]): Promise<ServerVerdict> {
  const pusher = whoPushes(ctx.config, ctx.researchers);
  const sessions = ctx.sessions().sessions.filter((s) => s.source === 'local');
  const refusals = checkCoordination(
    {
      repo: ctx.repo,
      config: ctx.config,
      nowMs: ctx.nowMs,
      pusher,
      sessions: new Map(sessions.map((s) => [s.id, s])),
      defaultBranch: ctx.server.branch,
    },
    updates.filter((u) => isCoordinationRef(u.ref)),
  );
  if (refusals.length) return { pusher, refusals };
  const reconfigured = await configurationChange(ctx, updates, pusher);
  if (reconfigured && 'rule' in reconfigured) return { pusher, refusals: [reconfigured] };
  const targets = pushedWork(
    ctx,
    updates.filter((u) => !isCoordinationRef(u.ref)),
  );
  if (targets.length === 0) {
    if (reconfigured) keepForPostReceive(ctx.repo, updates, reconfigured.records);
    return { pusher, refusals, override: reconfigured };
  }
  const check = await checkPush(ctx, targets, {
    fetch: false,
    onServer: { policy: ctx.config.server.policy, pusher: pusher.researcher, enforced: pusher.known },
  });
  const forGate = check.blocked ? overrideFor(ctx, check, pusher) : undefined;
  const override =
    forGate && reconfigured
      ? { ...forGate, records: [...forGate.records, ...reconfigured.records] }
      : check.blocked
        ? forGate
        : reconfigured;
  if (override) keepForPostReceive(ctx.repo, updates, override.records);
  return { pusher, refusals, check, override };
}

/**
 * The configuration on the default branch decides what this gate enforces, and whom it
 * trusts: a push that changes it there would loosen the checks of every push after it. Such a
 * push lands only as a person's decision, given as a push option and recorded with their name
 * (the configuration file's blob unchanged: nothing to decide).
 */
async function configurationChange(
  ctx: ServerContext,
  updates: RefUpdate[],
  pusher: Pusher,
): Promise<ServerOverride | Refusal | undefined> {
  const main = ctx.server.branch && `refs/heads/${ctx.server.branch}`;
  const update = updates.find((u) => u.ref === main && !ZEROS.test(u.new));
  if (!update) return undefined;
  const next = await serverConfig(ctx.repo, update.new);
  if (next.blob === ctx.server.blob) return undefined;
  const what = (c: Config) =>
    JSON.stringify({
      ...c,
      file: undefined,
      mcp: undefined,
      researchers: [...c.researchers.values()],
      gates: [...c.gates.values()],
    });
  if (what(next.config) === what(ctx.config) && !next.problem) return undefined;
  const reason = pusher.known && !pusher.researcher ? undefined : pushOption(OVERRIDE_OPTION);
  if (!reason)
    return {
      ref: update.ref,
      rule: 'configuration',
      message: `this push changes the consortium's configuration on ${ctx.server.branch}, which decides what this server enforces and whom it trusts${next.problem ? ` (and it does not read: ${next.problem})` : ''}; it lands only as a person's decision, recorded with their name. An agent stops here and asks a person.`,
    };
  return {
    reason,
    via: 'push option',
    records: [
      {
        commit: update.new,
        entry: {
          type: 'override',
          at: iso(now()),
          by: pusher.researcher ?? 'unknown',
          actor: 'person',
          via: 'push option',
          recordedBy: 'server',
          identity: pusher.detail,
          session: null,
          ref: update.ref,
          pushedTo: update.ref,
          reason,
          landed: true,
          conflicts: [
            {
              kind: 'configuration',
              paths: [next.file ?? ctx.server.file ?? ''],
              message: 'the configuration on the default branch changed',
            },
          ],
        },
      },
    ],
  };
}

/**
 * The refs that bring work: every update other than a deletion, peeled to its commit (a tag
 * only when it brings commits no ref here holds); `--not --all` selects the commits new to
 * the server, as the refs stand before this push.
 */
function pushedWork(ctx: ServerContext, updates: RefUpdate[]): PushTarget[] {
  const live = updates.filter((u) => !ZEROS.test(u.new));
  // A branch holds a commit (git refuses anything else there); other refs are peeled, in one git.
  const isBranch = (u: RefUpdate) => u.ref.startsWith('refs/heads/');
  const peeled = peelCommits(ctx.repo, [...new Set(live.filter((u) => !isBranch(u)).map((u) => u.new))]);
  const targets: PushTarget[] = [];
  const seenTags = new Set<string>();
  for (const u of live) {
    const tip = isBranch(u) ? u.new : peeled.get(u.new);
    if (!tip) continue;
    if (u.ref.startsWith('refs/tags/')) {
      if (seenTags.has(tip)) continue;
      seenTags.add(tip);
    }
    targets.push({ ref: u.ref, tip, commits: { tip, not: WORK_REFS }, pushedTo: u.ref });
  }
  return targets;
}

interface ServerOverride {
  reason: string;
  via: 'push option' | 'client record';
  /** What post-receive records once the push has landed. */
  records: { commit: string; entry: NoteEntry }[];
}

/**
 * Overrides the server accepts: a push option (`git push -o consortium.override=<reason>`,
 * for a push made without client hooks), or, for a push through the clients' gate, the
 * override record it sent ahead of the push: a pending override note on every pushed tip,
 * for that ref, never in the name of another researcher than the pusher the server knows.
 */
function overrideFor(ctx: ServerContext, check: PushCheck, pusher: Pusher): ServerOverride | undefined {
  // Where the server knows its pushers, one it does not know as a researcher overrides nothing.
  if (pusher.known && !pusher.researcher) return undefined;
  const option = pushOption(OVERRIDE_OPTION);
  if (option) return { reason: option, via: 'push option', records: overrideNotes(check, option, pusher) };
  const notes = notesOf(
    ctx.repo,
    NOTES_REF,
    check.refs.map((r) => r.tip),
  );
  let reason: string | undefined;
  const records: ServerOverride['records'] = [];
  for (const ref of check.refs) {
    const sent = parseNote(notes.get(ref.tip) ?? '').find(
      (e) =>
        e.type === 'override' &&
        e.landed === null &&
        (e.pushedTo ?? e.ref) === ref.pushedTo &&
        typeof e.reason === 'string' &&
        e.reason.trim() &&
        // Sent by the pusher: a client that could not tell its researcher writes `unknown`.
        (!pusher.known || e.by === pusher.researcher || !ctx.researchers.has(String(e.by))),
    );
    if (!sent) return undefined;
    reason ??= sent.reason as string;
    // The client's gate recorded it pending; the server says it landed, in the same words sync would.
    records.push({
      commit: ref.tip,
      entry: {
        type: 'landed',
        at: iso(now()),
        override: sent.at,
        by: sent.by,
        ref: ref.pushedTo,
        landed: true,
        recordedBy: 'server',
      },
    });
  }
  return reason ? { reason, via: 'client record', records } : undefined;
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
  reason: string,
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
      reason,
      landed: true,
      conflicts,
    },
  }));
}

/**
 * Where pre-receive leaves what post-receive records once a ref has landed: one file per ref
 * and new value, so that a push of which only some refs landed records exactly theirs.
 */
const pendingFile = (repo: Repo, ref: string, sha: string) =>
  path.join(
    repo.gitDir,
    'consortium',
    'server-pending',
    `${nodeCrypto().createHash('sha256').update(`${ref} ${sha}`).digest('hex').slice(0, 32)}.json`,
  );

/** A push whose pre-receive passed can still fail (another hook, a ref lock): its file is let go after an hour. */
function forgetStale(dir: string): void {
  for (const name of readdirSafe(dir)) {
    const file = path.join(dir, name);
    const stat = statSync(file, { throwIfNoEntry: false });
    if (stat && Date.now() - stat.mtimeMs > 3_600_000) rmSync(file, { force: true });
  }
}

const readdirSafe = (dir: string) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

function keepForPostReceive(
  repo: Repo,
  updates: RefUpdate[],
  notes: { commit: string; entry: NoteEntry }[],
): void {
  for (const u of updates) {
    const mine = notes.filter((n) => (n.entry.pushedTo ?? n.entry.ref) === u.ref);
    if (mine.length === 0) continue;
    const file = pendingFile(repo, u.ref, u.new);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(mine));
  }
}

/**
 * post-receive: the push has landed. The overrides the server accepted are recorded as notes
 * (by push option: the override itself, landed; sent by a client: a `landed` line for it),
 * so that `audit` and every clone's sync see them.
 */
export function recordLanded(repo: Repo, updates: RefUpdate[]): { recorded: NoteEntry[]; problem?: string } {
  const notes: { commit: string; entry: NoteEntry }[] = [];
  for (const u of updates.filter((x) => !ZEROS.test(x.new))) {
    const file = pendingFile(repo, u.ref, u.new);
    try {
      notes.push(...JSON.parse(readFileSync(file, 'utf8')));
    } catch {
      continue; // nothing kept by pre-receive for this ref: no override
    }
    rmSync(file, { force: true });
  }
  forgetStale(path.join(repo.gitDir, 'consortium', 'server-pending'));
  if (notes.length === 0) return { recorded: [] };
  const author = { name: 'git-consortium server', email: 'git-consortium-server@consortium.invalid' };
  if (!addNotes(repo, notes, author))
    return { recorded: [], problem: `the override record could not be written to ${NOTES_REF}` };
  return { recorded: notes.map((n) => n.entry) };
}
