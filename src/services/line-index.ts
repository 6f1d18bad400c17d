import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { isLive } from '../analysis/state.js';
import type { Context } from '../context/context.js';
import { fnv1a, researcherIdProblem } from '../core/ids.js';
import { localStateFile, readJson, writeJson } from '../core/local-state.js';
import { backgroundAllowed, runDetached } from '../core/process.js';
import { defaultBranch, mergeBase } from '../git/changes.js';
import { type FileChange, lineChanges } from '../git/hunks.js';
import { existingCommits } from '../git/merge-tree.js';
import { objectInfo, readObjects } from '../git/objects.js';
import { fetchCoordination, type NetworkOutcome, shareInBackground } from '../store/remote.js';
import type { Session } from '../store/sessions.js';
import { fetchSessionBranches, sessionBranchRefspecs, sessionTips } from './predict.js';

/**
 * The line index of live work (SPEC section 7, `policy.lines`): for each live session whose
 * tip is here, the hunks its branch changes against its merge base with the default branch,
 * file by file. Built after each coordination fetch (updateLineIndex), read at each edit
 * (lineEntries) with no git at all: one small file per path, under .git/consortium/lines/,
 * holding every session's hunks for that path and the merge-base version of the file (so an
 * edit's lines, counted in the file as it is now, can be carried back to the merge base).
 *
 * A session is indexed by its tip: while the tip does not move, an update costs one
 * for-each-ref and nothing else. It is local state, rebuilt from git whenever lost.
 */
export interface LineEntry {
  session: string;
  researcher: string;
  branch: string | null;
  tip: string;
  status: FileChange['status'];
  /** The path at the merge base, and at the session's tip (they differ for a rename). */
  from: string;
  path: string;
  /** The merge-base version of the file, kept in the shard's blobs when it is text and not too large. */
  blob: string | null;
  binary: boolean;
  /** Per hunk: old first, old count, new first, new count, the first lines it brought. */
  hunks: [number, number, number, number, string[]][];
}

interface Shard {
  format: number;
  files: Record<string, LineEntry[]>;
  blobs: Record<string, string>;
}

interface Manifest {
  format: number;
  sessions: Record<string, { tip: string; paths: string[] }>;
}

const FORMAT = 1;
const MAX_BLOB_BYTES = 512 * 1024;
const LOCK_STALE_MS = 60_000;

const folder = (commonDir: string) => localStateFile(commonDir, 'lines');

/** Each path's file is named by a hash of the path: naming it must cost nothing at edit time. */
const shardName = (file: string) => `${fnv1a(file)}.json`;

const shardFile = (commonDir: string, file: string) => path.join(folder(commonDir), shardName(file));

/**
 * A shard as read from disk, kept only in the shape this version writes: it is local state, and
 * a file that was cut short, or written by another version, must cost a warning nothing and
 * an edit no crash. What does not fit is dropped, and the next update writes it anew.
 */
function validShard(data: unknown): { shard: Shard; damaged: boolean } {
  const shard: Shard = { format: FORMAT, files: {}, blobs: {} };
  if (data === undefined) return { shard, damaged: false };
  if (!data || typeof data !== 'object') return { shard, damaged: true };
  const { format, files, blobs } = data as Record<string, unknown>;
  if (format !== FORMAT) return { shard, damaged: true };
  let damaged = !files || typeof files !== 'object' || !blobs || typeof blobs !== 'object';
  for (const [p, entries] of Object.entries(files ?? {})) {
    const kept = Array.isArray(entries) ? entries.filter(validEntry) : [];
    if (!Array.isArray(entries) || kept.length !== entries.length) damaged = true;
    if (kept.length) shard.files[p] = kept;
  }
  for (const [id, text] of Object.entries(blobs ?? {}))
    if (typeof text === 'string') shard.blobs[id] = text;
    else damaged = true;
  return { shard, damaged };
}

const count = (n: unknown) => Number.isInteger(n) && (n as number) >= 0;
const text = (v: unknown) => typeof v === 'string';

function validEntry(e: unknown): e is LineEntry {
  if (!e || typeof e !== 'object') return false;
  const x = e as Record<string, unknown>;
  return (
    text(x.session) &&
    text(x.researcher) &&
    (x.branch === null || text(x.branch)) &&
    text(x.tip) &&
    ['added', 'modified', 'deleted', 'renamed'].includes(x.status as string) &&
    text(x.from) &&
    text(x.path) &&
    (x.blob === null || text(x.blob)) &&
    typeof x.binary === 'boolean' &&
    Array.isArray(x.hunks) &&
    x.hunks.every(
      (h) =>
        Array.isArray(h) &&
        h.length === 5 &&
        h.slice(0, 4).every(count) &&
        Array.isArray(h[4]) &&
        h[4].every(text),
    )
  );
}

/**
 * A shard; one that does not read (cut short, or edited) also loses the manifest, so that the
 * next update indexes everything again rather than trusting the tips it lists.
 */
function readShard(commonDir: string, file: string): Shard {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    data = (error as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : null;
  }
  const { shard, damaged } = validShard(data);
  if (damaged) rmSync(path.join(folder(commonDir), 'index.json'), { force: true });
  return shard;
}

/** What the index holds for one path (from the top of the repository): read from one file, no git. */
export function lineEntries(
  commonDir: string,
  file: string,
): { entries: LineEntry[]; blobs: Record<string, string> } {
  const shard = readShard(commonDir, shardFile(commonDir, file));
  return { entries: shard.files[file] ?? [], blobs: shard.blobs };
}

/** Every path the index holds, with its entries (check --lines walks them all). */
export function indexedPaths(commonDir: string): string[] {
  const manifest = readManifest(commonDir) ?? emptyManifest();
  return [...new Set(Object.values(manifest.sessions).flatMap((s) => s.paths))].sort();
}

/** The manifest, or undefined when there is none or it does not read as this version writes it. */
function readManifest(commonDir: string): Manifest | undefined {
  const data = readJson<Manifest>(path.join(folder(commonDir), 'index.json'));
  if (data?.format !== FORMAT || !data.sessions || typeof data.sessions !== 'object') return undefined;
  const valid = Object.values(data.sessions).every(
    (s) =>
      s && typeof s.tip === 'string' && Array.isArray(s.paths) && s.paths.every((p) => typeof p === 'string'),
  );
  return valid ? data : undefined;
}

const emptyManifest = (): Manifest => ({ format: FORMAT, sessions: {} });

/**
 * The refspecs a coordination fetch adds so that the live sessions known before it bring their
 * branches along, in the same fetch: none when `policy.lines` is off, unless the caller needs
 * them for itself (`wanted`: the gate's merge check).
 */
export function liveBranchRefspecs(ctx: Context, wanted = false): string[] {
  if (ctx.config.policy.lines === 'off' && !wanted) return [];
  return sessionBranchRefspecs(ctx, liveSessions(ctx));
}

/**
 * After a coordination fetch that carried `fetched` (liveBranchRefspecs): the branches of live
 * sessions it did not carry and whose recorded head is not here (new sessions, or a gate's
 * fetch that carried none), in one more bounded fetch when there are any, then the index
 * brought up to date. A head that is here came with a fetch of its branch already: fetching
 * that branch again after every push would cost a round trip to bring nothing. Best effort:
 * what cannot be fetched is indexed from what is here.
 */
export async function refreshLineIndex(
  ctx: Context,
  fetched: readonly string[],
  timeoutMs?: number,
): Promise<void> {
  if (ctx.config.policy.lines === 'off') return;
  const done = new Set(fetched);
  const notCarried = liveSessions(ctx).filter((s) =>
    sessionBranchRefspecs(ctx, [s]).some((r) => !done.has(r)),
  );
  const here = existingCommits(
    ctx.repo,
    notCarried.flatMap((s) => (s.head ? [s.head] : [])),
  );
  const missing = notCarried.filter((s) => s.head && !here.has(s.head));
  const outcome = missing.length ? await fetchSessionBranches(ctx, missing, timeoutMs) : { ok: true };
  if (outcome.ok) stamp(ctx.repo.commonDir);
  updateLineIndex(ctx);
}

/**
 * Between coordination fetches (a long conversation may run for an hour with no sync, push or
 * new session), the detached share that follows a heartbeat brings the others' work too, when
 * the last fetch for the index is older than REFRESH_AFTER_MS: so at most one fetch in that
 * time, never on the agent's path.
 */
const REFRESH_AFTER_MS = 2 * 60_000;

export async function refreshLineIndexIfDue(ctx: Context): Promise<void> {
  if (ctx.config.policy.lines === 'off') return;
  try {
    if (Date.now() - statSync(stampFile(ctx.repo.commonDir)).mtimeMs < REFRESH_AFTER_MS) return;
  } catch {
    // never refreshed here: due
  }
  await fetchAndIndex(ctx);
}

/**
 * A coordination fetch that brings the live sessions' branches along in the same fetch, then
 * the index brought up to date (from what is here when the remote cannot be reached).
 */
export async function fetchAndIndex(ctx: Context): Promise<NetworkOutcome> {
  const branches = liveBranchRefspecs(ctx);
  const fetched = await fetchCoordination(ctx.repo, ctx.config, undefined, branches);
  ctx.invalidate();
  if (fetched.ok) await refreshLineIndex(ctx, branches);
  else updateLineIndex(ctx);
  return fetched;
}

const stampFile = (commonDir: string) => path.join(folder(commonDir), 'updated');

const liveSessions = (ctx: Context) =>
  ctx.sessions().sessions.filter((s) => isLive(s, ctx.nowMs, ctx.config.sessions.staleAfterMs));

/**
 * The way of the pre-push gate and of SessionStart, which must not wait for the index: a
 * detached process fetches the live sessions' branches (their own fetch brought the records
 * only) and updates it. Where background work is off (tests, CONSORTIUM_NO_BACKGROUND), here and now.
 * `share`: coordination refs the same process pushes first (one detached process, not two).
 * `carried`: refspecs of the session branches that came with the caller's fetch.
 */
export async function refreshLineIndexDetached(
  ctx: Context,
  timeoutMs?: number,
  share: string[] = [],
  carried: readonly string[] = [],
): Promise<void> {
  if (ctx.config.policy.lines === 'off') shareInBackground(ctx.repo, share);
  else if (backgroundAllowed())
    runDetached(['share', '--lines', ...carried.map((r) => `--carried=${r}`), ...share], ctx.repo.top);
  else await refreshLineIndex(ctx, carried, timeoutMs);
}

/**
 * Brings the index up to date with the live sessions' tips as they are here now (after a
 * coordination fetch brought their records and branches). Tips already indexed cost nothing.
 */
export function updateLineIndex(ctx: Context): void {
  if (ctx.config.policy.lines === 'off') return;
  const commonDir = ctx.repo.commonDir;
  const live = liveSessions(ctx);
  const tips = sessionTips(ctx, live);
  const wanted = new Map<string, { session: Session; tip: string }>();
  for (const s of live) {
    const tip = tips.get(s.id);
    // A researcher id from another machine's record is shown to agents: only a valid one is.
    if (tip?.commit && tip.verified && researcherIdProblem(s.researcher) === undefined)
      wanted.set(s.id, { session: s, tip: tip.commit });
  }
  const due = (manifest: Manifest) => ({
    changed: [...wanted.values()].filter(({ session, tip }) => manifest.sessions[session.id]?.tip !== tip),
    dropped: Object.keys(manifest.sessions).filter((id) => !wanted.has(id)),
  });
  const seen = readManifest(commonDir);
  const before = due(seen ?? emptyManifest());
  if (seen && before.changed.length === 0 && before.dropped.length === 0) return;
  // Another process updating it now does the same work: left to it.
  const release = lock(commonDir);
  if (!release) return;
  try {
    // Read again under the lock: another updater may have written it meanwhile. Without a
    // manifest that reads, what the shards hold cannot be told apart: they go, and all is indexed.
    let manifest = readManifest(commonDir);
    if (!manifest) {
      clearShards(commonDir);
      manifest = emptyManifest();
    }
    const { changed, dropped } = due(manifest);
    if (changed.length || dropped.length) rebuild(ctx, manifest, changed, dropped);
  } catch {
    // A cache: a git that fails here (a repository being repacked, a tip gone) costs only this update.
  } finally {
    release();
  }
}

function rebuild(
  ctx: Context,
  manifest: Manifest,
  changed: { session: Session; tip: string }[],
  dropped: string[],
): void {
  const commonDir = ctx.repo.commonDir;
  const target = defaultBranch(ctx.repo, ctx.config).ref;
  // One diff-tree for every new tip; each against its own merge base with the default branch.
  const bases = new Map<string, string>();
  for (const { tip } of changed) {
    if (bases.has(tip) || !target) continue;
    const base = mergeBase(ctx.repo, tip, target);
    if (base) bases.set(tip, base);
  }
  const changes = lineChanges(
    ctx.repo,
    [...bases].filter(([tip, base]) => tip !== base),
  );
  const entriesOf = new Map<string, LineEntry[]>();
  for (const { session, tip } of changed) {
    const files = changes.get(tip) ?? [];
    entriesOf.set(
      session.id,
      files.map((f) => ({
        session: session.id,
        researcher: session.researcher,
        branch: session.branch,
        tip,
        status: f.status,
        from: f.from,
        path: f.path,
        blob: f.binary ? null : f.oldBlob,
        binary: f.binary,
        hunks: f.hunks.map((h) => [h.old.first, h.old.count, h.new.first, h.new.count, h.excerpt]),
      })),
    );
  }
  writeShards(ctx, manifest, entriesOf, new Set([...changed.map((c) => c.session.id), ...dropped]));
  for (const id of dropped) delete manifest.sessions[id];
  for (const { session, tip } of changed)
    manifest.sessions[session.id] = { tip, paths: keysOf(entriesOf.get(session.id) ?? []) };
  writeJson(path.join(folder(commonDir), 'index.json'), manifest);
}

/** The paths an entry is found under: where it was, and where it is after a rename. */
const keysOf = (entries: readonly LineEntry[]) =>
  [...new Set(entries.flatMap((e) => [e.from, e.path]))].sort();

/** Rewrites the shards of every path the replaced sessions had or have, each file once. */
function writeShards(
  ctx: Context,
  manifest: Manifest,
  entriesOf: Map<string, LineEntry[]>,
  replaced: Set<string>,
): void {
  const commonDir = ctx.repo.commonDir;
  const affected = new Set<string>();
  for (const id of replaced) for (const p of manifest.sessions[id]?.paths ?? []) affected.add(p);
  const added = new Map<string, LineEntry[]>();
  for (const entries of entriesOf.values())
    for (const e of entries)
      for (const key of new Set([e.from, e.path])) {
        affected.add(key);
        added.set(key, [...(added.get(key) ?? []), e]);
      }
  // Several paths may share a file (their names' hash): each file is read and written once.
  const byShard = new Map<string, string[]>();
  for (const p of affected) {
    const file = shardFile(commonDir, p);
    byShard.set(file, [...(byShard.get(file) ?? []), p]);
  }
  const shards = new Map<string, Shard>();
  const missingBlobs = new Set<string>();
  for (const [file, paths] of byShard) {
    const shard = readShard(commonDir, file);
    for (const p of paths) {
      const kept = (shard.files[p] ?? []).filter((e) => !replaced.has(e.session));
      const entries = [...kept, ...(added.get(p) ?? [])];
      if (entries.length) shard.files[p] = entries;
      else delete shard.files[p];
    }
    const wanted = new Set(
      Object.values(shard.files).flatMap((es) => es.flatMap((e) => (e.blob ? [e.blob] : []))),
    );
    for (const id of Object.keys(shard.blobs)) if (!wanted.has(id)) delete shard.blobs[id];
    for (const id of wanted) if (!(id in shard.blobs)) missingBlobs.add(id);
    shards.set(file, shard);
  }
  // The merge-base versions, in one cat-file for all, sized first so that a file of many
  // megabytes is never read; a binary or large one is left out (its lines are then taken as
  // they are numbered now).
  const sizes = objectInfo(ctx.repo, [...missingBlobs]);
  const ids = [...missingBlobs].filter((id) => {
    const object = sizes.get(id);
    return object?.type === 'blob' && object.size <= MAX_BLOB_BYTES;
  });
  const texts = new Map<string, string>();
  readObjects(ctx.repo, ids).forEach((object, i) => {
    if (object && !object.text.includes('\0')) texts.set(ids[i]!, object.text);
  });
  for (const [file, shard] of shards) {
    for (const entries of Object.values(shard.files))
      for (const e of entries) if (e.blob && texts.has(e.blob)) shard.blobs[e.blob] = texts.get(e.blob)!;
    if (Object.keys(shard.files).length === 0) rmSync(file, { force: true });
    else writeJson(file, shard);
  }
}

/** Removes every shard (the manifest that said what they hold is lost). */
function clearShards(commonDir: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(folder(commonDir));
  } catch {
    return;
  }
  for (const name of names)
    if (/^[0-9a-f]{8}\.json$/.test(name)) rmSync(path.join(folder(commonDir), name), { force: true });
}

/** When the index last followed a fetch (refreshLineIndexIfDue reads its time). */
function stamp(commonDir: string): void {
  try {
    mkdirSync(folder(commonDir), { recursive: true });
    writeFileSync(stampFile(commonDir), '');
  } catch {
    // a read-only repository: the next heartbeat refreshes again
  }
}

/**
 * One updater at a time (its lock file made with O_EXCL); a lock older than LOCK_STALE_MS was
 * left by a process that died and is taken over. Undefined when another process holds it.
 */
function lock(commonDir: string): (() => void) | undefined {
  const file = path.join(folder(commonDir), 'update.lock');
  // Our own token in the lock, so that releasing never removes a lock another process took
  // over after ours went stale.
  const token = `${process.pid} ${Date.now()} ${Math.random()}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      mkdirSync(folder(commonDir), { recursive: true });
      const fd = openSync(file, 'wx');
      writeSync(fd, token);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(file, 'utf8') === token) rmSync(file, { force: true });
        } catch {
          // gone already
        }
      };
    } catch {
      try {
        if (Date.now() - statSync(file).mtimeMs < LOCK_STALE_MS) return undefined;
        rmSync(file, { force: true });
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
