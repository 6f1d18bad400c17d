import { rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../core/config.js';
import { environmentError } from '../core/errors.js';
import { backgroundAllowed, runDetached } from '../core/process.js';
import { hasRemoteUrl } from '../git/config.js';
import { writtenParents } from '../git/objects.js';
import { deleteRef, isAncestor, type RefContent, refContents, refShas, updateRefs } from '../git/refs.js';
import { fetchFrom, pushLeased } from '../git/remote.js';
import type { Repo } from '../git/repo.js';
import { unshareable } from './formats.js';
import { backoff, readRecords } from './records.js';
import { LOCAL, localOf, MIRROR, mirrorOf, NOTES_MIRROR, NOTES_REF } from './refs.js';

/**
 * Sharing coordination refs through the git server: pushes are compare-and-swap against what
 * was last fetched (--force-with-lease), fetches land in the mirror namespace, and every
 * network call is bounded in time.
 */
export const PUSH_TIMEOUT_MS = 4000;
export const FETCH_TIMEOUT_MS = 5000;

export const hasRemote = (repo: Repo, remote: string): boolean => hasRemoteUrl(repo, remote);

export type NetworkOutcome =
  | { ok: true }
  | { ok: false; reason: 'no-remote' | 'unreachable' | 'timeout'; detail: string }
  /** The remote's copy holds a change this one does not contain: sync merges the two. */
  | { ok: false; reason: 'moved'; detail: string }
  /** The server's gate refused it (SPEC section 13): retrying does not help. */
  | { ok: false; reason: 'refused'; detail: string };

/** Brings every coordination ref and the notes from the remote into the mirror namespace. */
export async function fetchCoordination(
  repo: Repo,
  config: Config,
  timeoutMs = FETCH_TIMEOUT_MS,
  /** More refspecs for the same fetch (sync brings the default branch along). */
  extra: string[] = [],
): Promise<NetworkOutcome> {
  // What the mirror holds now, for forgetPruned. It must be current: a listing kept from before
  // our own last push holds a mirror id older than the local one, and the prune would be missed
  // for good (the next sync would push the pruned record back). It is read from the ref files
  // (git/refs.ts), the ones changed since the last command read again.
  const known = shasOf(repo, [MIRROR]);
  const outcome = await fetchInto(repo, config, timeoutMs, extra);
  if (outcome.ok) forgetPruned(repo, known);
  return outcome;
}

/**
 * A finished session the remote deleted (`recover --prune` on some machine), whose record has
 * not changed here since it was last fetched, is deleted here too; otherwise the next sync
 * would push it back. Only finished sessions, which are all that prune deletes, and never when
 * the remote lost every record at once: that is a different or reset remote, not a prune.
 */
function forgetPruned(repo: Repo, known: Map<string, string>) {
  const now = shasOf(repo, [MIRROR]);
  const gone = [...known].filter(([mirror]) => !now.has(mirror) && mirror.startsWith(`${MIRROR}sessions/`));
  if (gone.length === 0 || now.size === 0) return;
  const { records } = readRecords(
    repo,
    gone.map(([mirror]) => localOf(mirror)),
  );
  const finished = new Set(
    records
      .filter((r) => {
        const state = (r.body as { state?: unknown } | null)?.state;
        return state === 'ended' || state === 'merged';
      })
      .map((r) => `${r.ref}\0${r.commit}`),
  );
  for (const [mirror, sha] of gone) {
    const local = localOf(mirror);
    if (finished.has(`${local}\0${sha}`)) deleteRef(repo, local, sha);
  }
}

async function fetchInto(
  repo: Repo,
  config: Config,
  timeoutMs: number,
  extra: string[],
): Promise<NetworkOutcome> {
  // The notes refspec is a glob, so that a remote without notes yet is not an error.
  return fetchRefspecs(
    repo,
    config,
    [`+${LOCAL}*:${MIRROR}*`, `+${NOTES_REF}*:${NOTES_MIRROR}*`, ...extra],
    timeoutMs,
  );
}

/**
 * The remote's copies of `refs` alone (records and notes a push of ours was refused for), for a
 * retry that need not bring everything again. Each is fetched as a glob of its own name, so
 * that a record the remote deleted meanwhile is pruned from the mirror rather than an error
 * (a glob may bring a longer name along too: only a mirror copy, harmless), and a pruned
 * finished session is forgotten here, as after a full fetch.
 */
export async function fetchRecords(repo: Repo, config: Config, refs: string[]): Promise<NetworkOutcome> {
  const known = shasOf(repo, [MIRROR]);
  const outcome = await fetchRefspecs(
    repo,
    config,
    refs.map((ref) => `+${ref}*:${mirrorOf(ref)}*`),
  );
  if (outcome.ok) forgetPruned(repo, known);
  return outcome;
}

/** One bounded fetch of `refspecs` from the configured remote, pruning what the remote dropped. */
export async function fetchRefspecs(
  repo: Repo,
  config: Config,
  refspecs: string[],
  timeoutMs = FETCH_TIMEOUT_MS,
): Promise<NetworkOutcome> {
  if (!hasRemote(repo, config.remote))
    return { ok: false, reason: 'no-remote', detail: `there is no remote named ${config.remote}` };
  const deadline = Date.now() + timeoutMs;
  let result = await fetchFrom(repo, config.remote, refspecs, { timeoutMs, prune: true });
  // Another process of ours (a background share, a hook) updated the same mirror ref while
  // this fetch wrote it: git refuses the stale lock. The remote answered; fetch again.
  for (let attempt = 1; attempt <= 2 && !result.timedOut && result.status !== 0; attempt++) {
    if (!/cannot lock ref|unable to update local ref/.test(result.stderr)) break;
    const left = deadline - Date.now();
    if (left < 200) break;
    removeStaleLocks(repo, result.stderr);
    backoff(attempt + 3);
    result = await fetchFrom(repo, config.remote, refspecs, { timeoutMs: left, prune: true });
  }
  if (result.timedOut) return { ok: false, reason: 'timeout', detail: noAnswer(config, timeoutMs) };
  if (result.status !== 0) return { ok: false, reason: 'unreachable', detail: firstLine(result.stderr) };
  return { ok: true };
}

/**
 * git's ref lock files hold the new value, not the writer's pid, and git holds them for
 * milliseconds: one this old belongs to a process that is gone (recover removes those too).
 */
export const STALE_LOCK_MS = 3000;

/**
 * A fetch killed at its time bound (under load, by us) leaves its ref locks behind, and every
 * later fetch then fails on them. The locks git names in its refusal, inside our own ref
 * folders and older than any live git holds one, are removed before fetching again.
 */
function removeStaleLocks(repo: Repo, stderr: string): void {
  for (const [, file] of stderr.matchAll(/Unable to create '([^']+\.lock)': File exists/g)) {
    const relative = path.relative(repo.commonDir, file!).split(path.sep).join('/');
    if (!/^(refs\/consortium-remote\/|refs\/notes\/consortium-remote|packed-refs\.lock$)/.test(relative))
      continue;
    const stat = statSync(file!, { throwIfNoEntry: false });
    if (stat && Date.now() - stat.mtimeMs > STALE_LOCK_MS) rmSync(file!, { force: true });
  }
}

export const noAnswer = (config: Config, timeoutMs: number) =>
  `${config.remote} did not answer within ${Math.round(timeoutMs / 1000)}s`;

export interface PushResult {
  outcome: NetworkOutcome;
  /** Refs the remote accepted (or already had). */
  accepted: string[];
  /**
   * Refs the remote holds a version of that the local record does not contain: refused by the
   * remote (another machine got there first), or not offered (fetched here since it was written).
   */
  rejected: string[];
  /** Refs not offered at all: this version cannot read what they hold (recover quarantines them). */
  held: { ref: string; reason: string }[];
  /** Refs the server's gate refused, with what it said (not in `rejected`: no retry helps). */
  refused: { ref: string; reason: string }[];
}

/**
 * How sharing went, for a command that shared its own records: refused by the server's gate,
 * too, with what became of the record here (by default it stays in this clone only).
 */
export function sharedOutcome(result: PushResult, here = 'It stays in this clone only.'): NetworkOutcome {
  const refused = result.refused[0];
  if (refused) return { ok: false, reason: 'refused', detail: `${refused.reason} ${here}` };
  if (result.outcome.ok && result.rejected.length)
    return {
      ok: false,
      reason: 'moved',
      detail: 'the remote has changes from another machine that this clone has not merged yet',
    };
  return result.outcome;
}

/**
 * Pushes local coordination refs, each only if the remote still holds what we last fetched
 * from it (or nothing, when we never saw it there), and only if this version can read what it
 * holds: an unreadable record shared is one every machine then trips over. Accepted refs update
 * the mirror.
 */
export async function pushRefs(
  repo: Repo,
  config: Config,
  refs: string[],
  timeoutMs = PUSH_TIMEOUT_MS,
): Promise<PushResult> {
  const none = { accepted: [], rejected: [], held: [], refused: [] };
  if (refs.length === 0) return { outcome: { ok: true }, ...none };
  if (!hasRemote(repo, config.remote)) {
    return {
      outcome: { ok: false, reason: 'no-remote', detail: `there is no remote named ${config.remote}` },
      ...none,
    };
  }
  // The records and their mirrors in one process: what to hold back, and what to lease against.
  const contents = new Map(refContentsOf(repo, [...refs, ...refs.map(mirrorOf)]).map((c) => [c.ref, c]));
  const held: PushResult['held'] = [];
  const behind: string[] = [];
  const offered: string[] = [];
  for (const ref of refs) {
    const content = contents.get(ref);
    const reason = content && unshareable(content);
    if (reason) held.push({ ref, reason });
    else if (content && !containsLeased(repo, content.sha, contents.get(mirrorOf(ref))?.sha))
      behind.push(ref);
    else if (content) offered.push(ref);
  }
  if (offered.length === 0) return { outcome: { ok: true }, ...none, rejected: behind, held };
  const pushed = await offer(repo, config, offered, contents, timeoutMs);
  if ('outcome' in pushed) return { ...pushed, held };
  updateMirrors(repo, pushed.accepted, contents);
  return { outcome: { ok: true }, ...pushed, rejected: [...pushed.rejected, ...behind], held };
}

/**
 * Whether a local record contains the remote's copy it would be leased against. The lease
 * only says that the remote still holds what this clone fetched last; a record written before
 * that fetch (another process's fetch, in this clone, while this one was writing) does not
 * contain it, and pushed over it would erase another machine's change from the remote. Such
 * a record is left for sync, which merges the two. A commit this process wrote names its
 * parents: no git process for the common case.
 */
function containsLeased(repo: Repo, local: string, leased: string | undefined): boolean {
  if (!leased || leased === local || writtenParents(local)?.includes(leased)) return true;
  return isAncestor(repo, leased, local);
}

/**
 * Pushes `refs` leased against their mirrors. The server's gate refuses a whole push for the
 * refs it names: those are refused, and the others, declined only with them, are offered again
 * on their own, so that one refused record never holds back everything else a clone shares.
 */
async function offer(
  repo: Repo,
  config: Config,
  refs: string[],
  contents: Map<string, RefContent>,
  timeoutMs: number,
): Promise<
  Omit<PushResult, 'outcome' | 'held'> | { outcome: NetworkOutcome; accepted: []; rejected: []; refused: [] }
> {
  const none = { accepted: [] as [], rejected: [] as [], refused: [] as [] };
  // The commit checked above is the one pushed, whatever the ref holds by the time git reads it.
  const result = await pushLeased(
    repo,
    config.remote,
    refs.map((ref) => ({
      src: contents.get(ref)!.sha,
      dst: ref,
      expected: contents.get(mirrorOf(ref))?.sha ?? '',
    })),
    timeoutMs,
  );
  if (result.timedOut)
    return { outcome: { ok: false, reason: 'timeout', detail: noAnswer(config, timeoutMs) }, ...none };
  const accepted = result.refs.filter((r) => !r.rejected).map((r) => r.dst);
  const rejected = result.refs.filter((r) => r.rejected && !r.declined).map((r) => r.dst);
  const named = result.refs.filter((r) => r.declined && r.named);
  const alongside = result.refs.filter((r) => r.declined && !r.named).map((r) => r.dst);
  if (
    accepted.length === 0 &&
    rejected.length === 0 &&
    named.length === 0 &&
    alongside.length === 0 &&
    result.status !== 0
  )
    return { outcome: { ok: false, reason: 'unreachable', detail: firstLine(result.stderr) }, ...none };
  const refused = named.map((r) => ({ ref: r.dst, reason: r.reason }));
  // Nothing named (a gate that failed as a whole): all of them refused, as said.
  if (named.length === 0)
    return {
      accepted,
      rejected,
      refused: result.refs.filter((r) => r.declined).map((r) => ({ ref: r.dst, reason: r.reason })),
    };
  if (alongside.length === 0) return { accepted, rejected, refused };
  const again = await offer(repo, config, alongside, contents, timeoutMs);
  if ('outcome' in again) return { accepted, rejected: [...rejected, ...alongside], refused };
  return {
    accepted: [...accepted, ...again.accepted],
    rejected: [...rejected, ...again.rejected],
    refused: [...refused, ...again.refused],
  };
}

/** Makes the mirror of each ref what the remote accepted: the commit pushed, not what the ref holds now. */
function updateMirrors(repo: Repo, refs: string[], contents: Map<string, RefContent>) {
  const updates = refs.flatMap((r) => {
    const sha = contents.get(r)?.sha;
    return sha ? [`update ${mirrorOf(r)} ${sha}\n`] : [];
  });
  if (updates.length) updateRefs(repo, updates);
}

const shasOf = (repo: Repo, refs: string[]) => refShas(repo, refs);

function refContentsOf(repo: Repo, refs: string[]) {
  try {
    return refContents(repo, refs);
  } catch (error) {
    throw environmentError((error as Error).message);
  }
}

/**
 * Shares refs from a detached child process, so a hook or a heartbeat never waits on the
 * network. Its output is closed; a failure is simply retried by the next share or sync.
 */
export function shareInBackground(repo: Repo, refs: string[]): void {
  if (refs.length === 0 || !backgroundAllowed()) return;
  runDetached(['share', ...refs], repo.top);
}

/**
 * What git (or its ssh) said went wrong, in one line: hints and warnings (ssh's "Permanently
 * added ... to the list of known hosts") aside, git's own words before the server's text
 * ("remote: Authentication required" comes before "fatal: Authentication failed for ..."),
 * and without git's "fatal: " in front.
 */
export function firstLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() && !/^(hint|warning):/i.test(l));
  const line = lines.find((l) => !/^remote:/.test(l)) ?? lines[0];
  return line?.replace(/^(fatal|error):\s*/, '').trim() || 'no answer';
}

/**
 * Deletes refs on the remote, each only if it still holds the given sha (--force-with-lease),
 * so a ref another machine has just rewritten is never deleted. Returns the refs deleted.
 */
export async function pushDeletions(
  repo: Repo,
  config: Config,
  refs: Map<string, string>,
  timeoutMs = PUSH_TIMEOUT_MS,
): Promise<{ outcome: NetworkOutcome; deleted: string[]; rejected: string[] }> {
  if (refs.size === 0) return { outcome: { ok: true }, deleted: [], rejected: [] };
  const result = await pushLeased(
    repo,
    config.remote,
    [...refs].map(([ref, sha]) => ({ src: '', dst: ref, expected: sha })),
    timeoutMs,
  );
  if (result.timedOut)
    return {
      outcome: { ok: false, reason: 'timeout', detail: `${config.remote} did not answer in time` },
      deleted: [],
      rejected: [],
    };
  const deleted = result.refs.filter((r) => !r.rejected).map((r) => r.dst);
  const rejected = result.refs.filter((r) => r.rejected).map((r) => r.dst);
  if (deleted.length === 0 && rejected.length === 0 && result.status !== 0)
    return {
      outcome: { ok: false, reason: 'unreachable', detail: firstLine(result.stderr) },
      deleted,
      rejected,
    };
  return { outcome: { ok: true }, deleted, rejected };
}
