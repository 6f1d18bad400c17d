import type { Repo } from './repo.js';
import { gitNetwork } from './run.js';

/**
 * What the toolkit asks of the remote: bounded fetches into the mirror namespace, pushes that
 * are compare-and-swap on the server (--force-with-lease), and a reachability probe. The
 * toolkit's own pushes skip the pre-push hook (--no-verify) and say so to it.
 */
export interface NetworkRun {
  timedOut: boolean;
  status: number;
  stderr: string;
}

/** A bounded fetch of `refspecs`; `prune` drops what the remote no longer has under them. */
export async function fetchFrom(
  repo: Repo,
  remote: string,
  refspecs: string[],
  options: { timeoutMs: number; prune: boolean },
): Promise<NetworkRun> {
  return gitNetwork(
    [
      'fetch',
      '--quiet',
      '--no-tags',
      '--no-write-fetch-head',
      // git's own maintenance belongs to the user's git commands, not to a bounded coordination fetch.
      '--no-auto-maintenance',
      ...(options.prune ? ['--prune'] : []),
      remote,
      ...refspecs,
    ],
    { cwd: repo.top, timeoutMs: options.timeoutMs },
  );
}

/** One ref to push: `src` to `dst` (src '' deletes), if the remote's `dst` is still `expected` ('' : absent). */
export interface LeasedUpdate {
  src: string;
  dst: string;
  expected: string;
}

/** How the remote answered one ref of a push (git push --porcelain). */
export interface PushedRef {
  dst: string;
  rejected: boolean;
  /** The remote's reason, for a rejected ref. */
  reason: string;
  /**
   * Refused by the server's own hook (the gate on the server, SPEC section 13) rather than
   * for a race: retrying cannot help. `reason` is then what the server said about this ref.
   */
  declined: boolean;
  /** Declined, and named by the server's hook itself (not merely refused with the rest of the push). */
  named: boolean;
}

/** What the server's hook said of `ref` ("remote: ..." lines), or of the push as a whole. */
function serverSaid(stderr: string, ref: string, fallback: string): { reason: string; named: boolean } {
  const said = stderr
    .split('\n')
    .filter((l) => l.startsWith('remote: '))
    .map((l) => l.slice('remote: '.length).trim())
    .filter(Boolean);
  const aboutRef = said.find((l) => l.includes(`refused ${ref} `));
  if (aboutRef) return { reason: aboutRef, named: true };
  return { reason: said.find((l) => /refused|blocked|could not/.test(l)) || fallback, named: false };
}

/** `atomic`: the remote takes every update or none (git push --atomic). */
export async function pushLeased(
  repo: Repo,
  remote: string,
  updates: LeasedUpdate[],
  timeoutMs: number,
  options: { atomic?: boolean } = {},
): Promise<NetworkRun & { refs: PushedRef[] }> {
  const args = ['push', '--no-verify', '--porcelain', ...(options.atomic ? ['--atomic'] : []), remote];
  for (const u of updates) args.push(`--force-with-lease=${u.dst}:${u.expected}`);
  args.push(...updates.map((u) => `${u.src}:${u.dst}`));
  // Our refs have no remote-tracking copies: the push moves no local ref.
  const result = await gitNetwork(args, {
    cwd: repo.top,
    timeoutMs,
    env: { CONSORTIUM_INTERNAL_PUSH: '1' },
    movesLocalRefs: false,
  });
  const refs: PushedRef[] = [];
  for (const line of result.stdout.split('\n')) {
    const match = /^(.)\t([^\t]*):([^\t]+)\t(.*)$/.exec(line);
    if (!match) continue;
    const reason = match[4] ?? '';
    const declined = match[1] === '!' && /hook declined/.test(reason);
    const said = declined ? serverSaid(result.stderr, match[3]!, reason) : { reason, named: false };
    refs.push({ dst: match[3]!, rejected: match[1] === '!', declined, ...said });
  }
  return { ...result, refs };
}

/**
 * Deletes refs on the remote whatever they hold, each on its own (a ref the remote lacks fails
 * alone): for records nobody compares and swaps, such as branch-name reservations. The names
 * are the toolkit's own, and each refspec starts with ':', which git never reads as an option.
 */
export async function pushDeletes(repo: Repo, remote: string, refs: string[], timeoutMs: number) {
  return gitNetwork(['push', '--no-verify', '--porcelain', remote, ...refs.map((r) => `:${r}`)], {
    cwd: repo.top,
    timeoutMs,
    env: { CONSORTIUM_INTERNAL_PUSH: '1' },
  });
}

/** The remote's tips of `refs` (full names), in one bounded ls-remote; undefined when it did not answer. */
export async function remoteTips(
  repo: Repo,
  remote: string,
  refs: string[],
  timeoutMs: number,
): Promise<Map<string, string> | undefined> {
  const result = await gitNetwork(['ls-remote', '--end-of-options', remote, ...refs], {
    cwd: repo.top,
    timeoutMs,
    movesLocalRefs: false,
  });
  if (result.timedOut || result.status !== 0) return undefined;
  const tips = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    const [sha, ref] = line.split('\t');
    if (sha && ref && refs.includes(ref)) tips.set(ref, sha);
  }
  return tips;
}

/** Whether the remote answers, within `timeoutMs`. */
export async function probeRemote(repo: Repo, remote: string, timeoutMs: number): Promise<NetworkRun> {
  return gitNetwork(['ls-remote', '--heads', remote], { cwd: repo.top, timeoutMs, movesLocalRefs: false });
}
