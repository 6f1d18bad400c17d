import { localStateFile, readJson, writeJson } from '../core/local-state.js';
import { carryOver, remembered } from './memo.js';
import { isObjectId } from './merge-tree.js';
import { commitMessage, objectInfo, readObjects, writtenMessage } from './objects.js';
import { type KnownRefFiles, readBranchRefFiles, readRefFilesKnowing, underPattern } from './ref-files.js';
import type { Repo } from './repo.js';
import { git } from './run.js';

/**
 * Refs: resolving, listing, reading record commits in bulk, and writing by compare-and-swap.
 * Every ref name here comes from the toolkit or was checked by the caller; revisions a user
 * typed go after --end-of-options.
 */

/** The object a ref or revision names, or undefined. */
export function resolveRef(repo: Repo, ref: string, cwd = repo.top): string | undefined {
  if (cwd !== repo.top) return askRevision(ref, cwd);
  if (coordinationPrefix(ref)) return refContents(repo, [ref]).find((c) => c.ref === ref)?.sha;
  if (branchPattern(ref)) return branchRefs(repo).get(ref)?.sha;
  return remembered(repo, `revision ${ref}`, () => askRevision(ref, cwd));
}

function askRevision(revision: string, cwd: string): string | undefined {
  const r = git(['rev-parse', '--verify', '--quiet', '--end-of-options', revision], { cwd });
  return r.status === 0 ? r.stdout.trim() || undefined : undefined;
}

/** Whether a full ref name exists. */
export function refExists(repo: Repo, ref: string): boolean {
  return git(['show-ref', '--verify', '--quiet', ref], { cwd: repo.top }).status === 0;
}

/**
 * Whether `ancestor` is reachable from `descendant`. A yes between two commit ids never
 * changes, so it is asked once per process (sync asks it of a record, then its push again);
 * a no may be a commit not fetched yet, and is asked again.
 */
export function isAncestor(repo: Repo, ancestor: string, descendant: string): boolean {
  const pair = `${ancestor} ${descendant}`;
  if (isObjectId(ancestor) && isObjectId(descendant) && known.has(pair)) return true;
  const yes =
    git(['merge-base', '--is-ancestor', '--end-of-options', ancestor, descendant], { cwd: repo.top })
      .status === 0;
  if (yes && isObjectId(ancestor) && isObjectId(descendant)) known.add(pair);
  return yes;
}

/** The ancestry isAncestor found, as "ancestor descendant" pairs of commit ids. */
const known = new Set<string>();

/**
 * Which of `commits` (ids) are contained in one of `targets` (ids): what isAncestor answers
 * for each, in two git processes whatever their number (sync asks it of every live session).
 * A commit missing here is contained in nothing, as isAncestor says of it. One rev-list of
 * the commits, not the targets: a commit it lists is reachable from none of the targets.
 */
export function containedIn(repo: Repo, commits: string[], targets: string[]): Set<string> {
  const asked = [...new Set(commits)].filter(isObjectId);
  const onto = [...new Set(targets)].filter(isObjectId);
  if (asked.length === 0 || onto.length === 0) return new Set();
  const one = (c: string) => onto.some((t) => isAncestor(repo, c, t));
  if (asked.length < 3) return new Set(asked.filter(one));
  const info = objectInfo(repo, asked);
  const present = asked.filter((c) => info.get(c)?.type === 'commit');
  if (present.length === 0) return new Set();
  // The commits on stdin (any number of them), the targets after --not.
  const r = git(['rev-list', '--stdin', '--not', ...onto], {
    cwd: repo.top,
    input: `${present.join('\n')}\n`,
  });
  if (r.status !== 0) return new Set(present.filter(one));
  const outside = new Set(r.stdout.split('\n'));
  return new Set(present.filter((c) => !outside.has(c)));
}

/** The sha of every ref matching the patterns (for-each-ref patterns: prefixes or globs). */
export function refShas(repo: Repo, patterns: string[]): Map<string, string> {
  if (patterns.every(coordinationPrefix))
    return new Map(refContents(repo, patterns).map(({ ref, sha }) => [ref, sha]));
  if (patterns.every(branchPattern)) {
    const out = new Map<string, string>();
    for (const [ref, { sha }] of branchRefs(repo))
      if (patterns.some((p) => underPattern(ref, p))) out.set(ref, sha);
    return out;
  }
  const out = git(['for-each-ref', '--format=%(refname) %(objectname)', ...patterns], {
    cwd: repo.top,
  }).stdout;
  const map = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [ref, sha] = line.split(' ');
    if (ref && sha) map.set(ref, sha);
  }
  return map;
}

/** The names of the refs matching the patterns. */
export const refNames = (repo: Repo, patterns: string[]): string[] => [...refShas(repo, patterns).keys()];

/** Local branches and their tips. */
export function branchTips(repo: Repo): Map<string, string> {
  const tips = new Map<string, string>();
  for (const [ref, sha] of refShas(repo, ['refs/heads/'])) tips.set(ref.slice('refs/heads/'.length), sha);
  return tips;
}

/** What a ref holds, read in bulk: its object, the object's type, and a commit's message. */
export interface RefContent {
  ref: string;
  sha: string;
  type: string;
  message: string;
}

/**
 * The toolkit's own refs. A command reads all of them, with their contents, in one git process
 * the first time it reads any (a hook reads sessions, leases, gates and notes: one process,
 * not five), and reads them again only after a git command that may have moved a ref.
 */
const COORDINATION = [
  'refs/consortium/',
  'refs/consortium-remote/',
  'refs/notes/consortium',
  'refs/notes/consortium-remote',
];

/** Every ref under the prefixes with its content, in one git process whatever their number. */
export function refContents(repo: Repo, prefixes: string[]): RefContent[] {
  if (!prefixes.every(coordinationPrefix)) return readContents(repo, prefixes);
  const all = remembered(repo, COORDINATION_REFS, () => readCoordination(repo));
  return all.filter(({ ref }) => prefixes.some((p) => underPattern(ref, p)));
}

const COORDINATION_REFS = 'coordination refs';

/**
 * Every branch and remote-tracking ref (its object, and the target of a symbolic one such as
 * refs/remotes/origin/HEAD), read once per command like the coordination refs: a command that
 * asks about the default branch, a session's branch and its remote copy pays for one read.
 * From git's ref files when they are as git writes them (git/ref-files.ts: no git process on
 * the gate's path), else from one for-each-ref.
 */
export function branchRefs(repo: Repo): Map<string, { sha: string; symref: string }> {
  return remembered(repo, 'branch refs', () => {
    const fromFiles = readBranchRefFiles(repo.commonDir);
    if (fromFiles) return fromFiles;
    const out = git(
      ['for-each-ref', '--format=%(refname)%00%(objectname)%00%(symref)', 'refs/heads/', 'refs/remotes/'],
      {
        cwd: repo.top,
      },
    ).stdout;
    const refs = new Map<string, { sha: string; symref: string }>();
    for (const line of out.split('\n')) {
      const [ref, sha, symref = ''] = line.split('\0');
      if (ref && sha) refs.set(ref, { sha, symref });
    }
    return refs;
  });
}

/**
 * A plain branch or remote-tracking ref name, or a folder of them: read from branchRefs. A
 * revision (`^{commit}`, `~1`, `@{u}`) or any unusual name is git's to read.
 */
const branchPattern = (p: string) => /^refs\/(heads|remotes)\/[\w./-]*$/.test(p);

/**
 * The coordination refs with their contents. Names and ids come from git's ref files
 * (git/ref-files.ts: no git process, and only the files whose stamp changed since the last
 * command are read again, even when hundreds of sessions' refs just moved), else from one
 * for-each-ref. A record's content is that of its commit, which never changes: the
 * type and message of every object seen are kept between commands in a local file, so that
 * only commits not seen before are read (a tool call of an agent starts no git at all).
 */
function readCoordination(repo: Repo): RefContent[] {
  const file = localStateFile(repo.commonDir, 'coordination-refs.json');
  const kept = readJson<KeptRefs>(file);
  const objects = new Map(Object.entries(kept?.objects ?? {}).filter(([, o]) => o?.type));
  const known = kept?.known && typeof kept.known.at === 'number' && kept.known.files ? kept.known : undefined;
  const fromFiles = readRefFilesKnowing(repo.commonDir, COORDINATION, undefined, known);
  const listed: [string, string][] = fromFiles
    ? [...fromFiles.refs].map(([ref, { sha }]) => [ref, sha])
    : listRefs(repo, COORDINATION);
  let learned = false;
  for (const [, sha] of listed) {
    if (objects.has(sha)) continue;
    const message = writtenMessage(sha);
    if (message === undefined) continue;
    objects.set(sha, { type: 'commit', message });
    learned = true;
  }
  const unread = [...new Set(listed.map(([, sha]) => sha).filter((sha) => !objects.has(sha)))];
  readObjects(repo, unread).forEach((object, i) => {
    objects.set(
      unread[i]!,
      object
        ? { type: object.type, message: object.type === 'commit' ? commitMessage(object.text) : '' }
        : GONE,
    );
  });
  // A missing object is asked for again next time: it may be back (a fetch, a repair).
  const used = new Set(listed.map(([, sha]) => sha).filter((sha) => objects.get(sha)?.type));
  // Written when it learned something or holds what no ref needs any more, not on every read.
  if (fromFiles?.changed || learned || unread.length || used.size < Object.keys(kept?.objects ?? {}).length)
    writeJson(file, {
      ...(fromFiles && { known: fromFiles.known }),
      objects: Object.fromEntries([...objects].filter(([sha]) => used.has(sha))),
    } satisfies KeptRefs);
  return listed.map(([ref, sha]) => ({ ref, sha, ...(objects.get(sha) ?? GONE) }));
}

/** What readCoordination keeps: the ref files as last read, and each object's type and message once. */
interface KeptRefs {
  known?: KnownRefFiles;
  objects?: Record<string, { type: string; message: string }>;
}

/** A ref whose object is missing (a damaged repository): shown as such to the readers. */
const GONE = { type: '', message: '' };

/**
 * The names and ids of the refs under the prefixes, in one for-each-ref that opens no object
 * (asking for an object's type or content means reading it: with hundreds of loose records,
 * most of the command's time).
 */
function listRefs(repo: Repo, prefixes: string[]): [string, string][] {
  const result = git(['for-each-ref', '--format=%(refname) %(objectname)', ...prefixes], { cwd: repo.top });
  if (result.status !== 0) {
    const detail = result.stderr.trim().split('\n')[0] ?? '';
    throw new Error(`git for-each-ref failed${detail ? `: ${detail}` : '.'}`);
  }
  return result.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ') as [string, string]);
}

/**
 * After a ref change of our own succeeded (here, or by another writer of refs in git/): the
 * coordination refs known before are patched
 * with it (a commit this process wrote is known with its message), and the answers about
 * branches stand, unless a branch, a remote-tracking ref or HEAD was among the changes.
 */
export function wrote(repo: Repo, changes: { ref: string; sha: string | undefined }[]): void {
  if (changes.some(({ ref }) => !ref.startsWith('refs/') || /^refs\/(heads|remotes|tags)\//.test(ref)))
    return;
  carryOver(repo, (question, answer) => {
    // What a revision names may be what was just written: asked again.
    if (question.startsWith('revision ')) return undefined;
    if (question !== COORDINATION_REFS) return answer;
    const byRef = new Map((answer as RefContent[]).map((c) => [c.ref, c]));
    for (const { ref, sha } of changes) {
      if (!coordinationPrefix(ref)) continue;
      if (sha === undefined) {
        byRef.delete(ref);
        continue;
      }
      const message = writtenMessage(sha);
      if (message === undefined) return undefined;
      byRef.set(ref, { ref, sha, type: 'commit', message });
    }
    return [...byRef.values()].sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  });
}

const coordinationPrefix = (p: string) =>
  COORDINATION.some((root) => underPattern(p, root)) && /^[\w./-]*$/.test(p);

function readContents(repo: Repo, prefixes: string[]): RefContent[] {
  const result = git(
    ['for-each-ref', '--format=%(refname)%00%(objectname)%00%(objecttype)%00%(contents)%00', ...prefixes],
    { cwd: repo.top },
  );
  if (result.status !== 0) {
    const detail = result.stderr.trim().split('\n')[0] ?? '';
    throw new Error(`git for-each-ref failed${detail ? `: ${detail}` : '.'}`);
  }
  const contents: RefContent[] = [];
  for (const chunk of result.stdout.split('\0\n')) {
    if (!chunk) continue;
    const [ref = '', sha = '', type = '', message = ''] = chunk.split('\0');
    contents.push({ ref, sha, type, message });
  }
  return contents;
}

/** Moves `ref` to `sha` if it holds `expected` (40 zeros: must not exist); false when it did not. */
export function updateRef(
  repo: Repo,
  ref: string,
  sha: string,
  expected?: string,
  env?: NodeJS.ProcessEnv,
): boolean {
  const args = [
    'update-ref',
    '-m',
    'git-consortium',
    ref,
    sha,
    ...(expected === undefined ? [] : [expected]),
  ];
  const ok = git(args, { cwd: repo.top, env }).status === 0;
  if (ok) wrote(repo, [{ ref, sha }]);
  return ok;
}

/** Deletes `ref` (only if it holds `expected`, when given); false when it did not. */
export function deleteRef(repo: Repo, ref: string, expected?: string, env?: NodeJS.ProcessEnv): boolean {
  const ok =
    git(['update-ref', '-d', ref, ...(expected === undefined ? [] : [expected])], { cwd: repo.top, env })
      .status === 0;
  if (ok) wrote(repo, [{ ref, sha: undefined }]);
  return ok;
}

/** Several ref changes as one transaction (update-ref --stdin lines); all or nothing. */
export function updateRefs(repo: Repo, lines: string[]): boolean {
  if (lines.length === 0) return true;
  const ok = git(['update-ref', '--stdin'], { cwd: repo.top, input: lines.join('') }).status === 0;
  if (ok) wrote(repo, lines.map(changeOf));
  return ok;
}

/** The ref and new value of an `update-ref --stdin` line (`update`, `create`, `delete`). */
function changeOf(line: string): { ref: string; sha: string | undefined } {
  const [verb = '', ref = '', sha] = line.trim().split(' ');
  // Anything but a plain update or delete (`verify`, options) forgets what was known.
  if (verb === 'delete') return { ref, sha: undefined };
  if (verb === 'update' || verb === 'create') return { ref, sha };
  return { ref: 'unknown', sha: undefined };
}

/** The branch checked out in a worktree (short name), or undefined on a detached HEAD. */
export function checkedOutBranch(cwd: string): string | undefined {
  return git(['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd }).stdout.trim() || undefined;
}

/** Whether git accepts `name` as a branch name. */
export function validBranchName(cwd: string, name: string): boolean {
  return !name.startsWith('-') && git(['check-ref-format', '--branch', name], { cwd }).status === 0;
}

/** The revisions a range names (rev-parse --revs-only), or undefined when it names none. */
export function revisionsOf(repo: Repo, range: string): string[] | undefined {
  const r = git(['rev-parse', '--revs-only', '--end-of-options', range], { cwd: repo.top });
  if (r.status !== 0) return undefined;
  const revs = r.stdout.split('\n').filter(Boolean);
  return revs.length ? revs : undefined;
}
