// Line warnings against real merge conflicts: how well the edit-time line check (a change at or
// within NEAR_LINES unchanged lines of another live session's hunks, services/line-check.ts)
// predicts the textual conflicts `git merge-tree` finds. The pairs are the newest two-parent
// merges reachable from HEAD of a repository (all of them, not only --first-parent: every merge
// is two real branches met), each merge's parents replayed as two live sessions:
//
// - session A is the first parent P1, indexed as the product indexes a session: its hunks
//   against the merge base, from lineChanges (git diff-tree -M -U0, many pairs a process; here
//   limited to the paths both sides change, see step 2);
// - session B is the second parent P2, whose change of each file is "the edit": the spans our
//   own line diff (replacedSpans) finds between the merge-base text and P2's text. The file "as
//   it is now" is the merge-base version, so carrying the spans back to the base is the
//   identity (spanBefore is still called, with the hunks of diffLines(base, base): none).
// - The product's rules decide: A deletes the file, both add it, or it is binary (either side)
//   warns whatever the lines; otherwise a B span and an A hunk at most `near` unchanged lines
//   apart warn. A blob over 512 KB (which the line index leaves out) is compared through git's
//   own hunks of B instead; a blob holding NUL counts as binary.
// - The truth is `git merge-tree --write-tree` (one batched process): the conflicted paths of
//   each pair. Files only one side changes can neither warn nor conflict textually here; a
//   conflicted path that is no file both sides change (rename/add, rename/rename to a path the
//   other side has, ...) is a conflict we do not model, counted as a miss.
//
// Per file (each file both sides change, plus those unmodelled conflicts) and per pair (any
// warned file, any conflict), for near = NEAR_LINES (the product) and near = 0 (git's own rule:
// touching or overlapping changes), over all pairs and over the pairs with one merge base: git
// merges a pair with several (a criss-cross history) against a virtual base made of them all,
// while the product, like this benchmark, takes the first, so that whatever both sides got
// from the other bases counts as changed on both sides.
//
//   npm run build && node bench/line-precision.mjs [--repo PATH] [--pairs N] [--examples K]
//
// --repo defaults to the repository this benchmark lives in (its own history), --pairs to 400;
// --examples K prints up to K false positives and false negatives of each kind. A bare
// repository works (openRepo refuses one, so the Repo is built here: git only needs its cwd).
import { execFile, spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { diffLines, splitLines } from '../dist/analysis/line-diff.js';
import { linesBetween, NEAR_LINES, replacedSpans, spanBefore } from '../dist/analysis/lines.js';
import { lineChanges } from '../dist/git/hunks.js';
import { mergeTrees } from '../dist/git/merge-tree.js';
import { readObjects } from '../dist/git/objects.js';
import { report } from './lib.mjs';

const MAX_BLOB_BYTES = 512 * 1024; // as services/line-index.ts
const CONCURRENCY = Math.max(2, availableParallelism());

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const defaultRepo = path.resolve(import.meta.dirname, '..');
const repoPath = realpathSync(option('--repo', defaultRepo));
const wantedPairs = Number(option('--pairs', '400'));
const examples = Number(option('--examples', '0'));
if (!Number.isInteger(wantedPairs) || wantedPairs < 1) throw new Error('--pairs wants a positive integer');

const started = process.hrtime.bigint();
const since = (t) => Number(process.hrtime.bigint() - t) / 1e6;
const phases = [];
const phase = (name, fn) => {
  const t = process.hrtime.bigint();
  const value = fn();
  phases.push([name, since(t)]);
  return value;
};
let gitProcesses = 0;

function gitSync(argv, input) {
  gitProcesses++;
  const r = spawnSync('git', argv, { cwd: repoPath, input, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`git ${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The Repo the product's git modules want: `top` is the cwd they run git in. */
function repoOf(dir) {
  const bare = gitSync(['rev-parse', '--is-bare-repository']).trim() === 'true';
  const [gitDir = '', commonDir = ''] = gitSync(['rev-parse', '--absolute-git-dir', '--git-common-dir'])
    .trim()
    .split('\n');
  const top = bare ? dir : gitSync(['rev-parse', '--show-toplevel']).trim();
  return { top, gitDir, commonDir: path.resolve(dir, commonDir), cwd: dir };
}

const repo = repoOf(repoPath);

// 1. The merges, and their merge bases. git has no batch merge-base, and on a repository
// without a commit-graph each `git merge-base` walks and parses history afresh (about 80 ms a
// pair on git.git, a minute of processes for 400 pairs). So the bases are found here, from one
// listing of HEAD's history (every parent and its commit time): the best common ancestors of P1
// and P2 are the common ancestors no child of which is common, listed newest first as git does.
// Every pair with more than one base, and the first CHECKED others, are checked against
// `git merge-base --all` (a disagreement is reported, and git's answer used).
const CHECKED = 16;
const merges = phase('rev-list --merges', () =>
  gitSync([
    'rev-list',
    '--merges',
    '--min-parents=2',
    '--max-parents=2',
    '--parents',
    '-n',
    String(wantedPairs),
    'HEAD',
  ])
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [merge, p1, p2] = line.split(' ');
      return { merge, p1, p2 };
    }),
);

const history = phase('rev-list --parents --timestamp (the graph)', () => {
  const lines = gitSync(['rev-list', '--parents', '--timestamp', 'HEAD']).trim().split('\n').filter(Boolean);
  const n = lines.length;
  const index = new Map();
  const ids = new Array(n);
  const time = new Float64Array(n);
  const split = lines.map((line, i) => {
    const [stamp, id, ...parents] = line.split(' ');
    index.set(id, i);
    ids[i] = id;
    time[i] = Number(stamp);
    return parents;
  });
  // Parents and children as offsets into flat arrays (the walks below touch every ancestor).
  const parentStart = new Int32Array(n + 1);
  const childCount = new Int32Array(n + 1);
  const flat = [];
  split.forEach((ps, i) => {
    parentStart[i] = flat.length;
    for (const id of ps) {
      const p = index.get(id);
      if (p === undefined) continue;
      flat.push(p);
      childCount[p + 1]++;
    }
  });
  parentStart[n] = flat.length;
  const parent = Int32Array.from(flat);
  const childStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) childStart[i + 1] = childStart[i] + childCount[i + 1];
  const child = new Int32Array(flat.length);
  const filled = childStart.slice(0, n);
  for (let i = 0; i < n; i++)
    for (let j = parentStart[i]; j < parentStart[i + 1]; j++) child[filled[parent[j]]++] = i;
  return { index, ids, time, parentStart, parent, childStart, child };
});

function mergeBasesOf(history, pairsToFind) {
  const { index, ids, time, parentStart, parent, childStart, child } = history;
  const n = ids.length;
  const inA = new Int32Array(n);
  const inB = new Int32Array(n);
  const stack = new Int32Array(parent.length + 2);
  return pairsToFind.map(([x, y], k) => {
    const stamp = k + 1;
    const walk = (start, mark, other, common) => {
      if (start === undefined) return;
      let top = 0;
      stack[top++] = start;
      while (top > 0) {
        const i = stack[--top];
        if (mark[i] === stamp) continue;
        mark[i] = stamp;
        if (common && other[i] === stamp) common.push(i);
        for (let j = parentStart[i]; j < parentStart[i + 1]; j++)
          if (mark[parent[j]] !== stamp) stack[top++] = parent[j];
      }
    };
    walk(index.get(x), inA);
    const common = [];
    walk(index.get(y), inB, inA, common);
    const best = [];
    for (const i of common) {
      let childCommon = false;
      for (let j = childStart[i]; j < childStart[i + 1] && !childCommon; j++)
        childCommon = inA[child[j]] === stamp && inB[child[j]] === stamp;
      if (!childCommon) best.push(i);
    }
    return best.sort((i, j) => time[j] - time[i]).map((i) => ids[i]);
  });
}

const run = promisify(execFile);
async function gitMergeBases(list) {
  const out = new Array(list.length);
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const i = next++;
      gitProcesses++;
      try {
        const { stdout } = await run('git', ['merge-base', '--all', list[i].p1, list[i].p2], {
          cwd: repoPath,
        });
        out[i] = stdout.trim().split('\n').filter(Boolean);
      } catch {
        out[i] = []; // exit 1: no common ancestor
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return out;
}
const allBases = phase('merge bases (in this process)', () =>
  mergeBasesOf(
    history,
    merges.map((m) => [m.p1, m.p2]),
  ),
);
const toCheck = merges
  .map((m, i) => ({ ...m, i }))
  .filter((m) => m.i < CHECKED || allBases[m.i].length !== 1);
const tCheck = process.hrtime.bigint();
const checked = await gitMergeBases(toCheck);
phases.push([`git merge-base --all, to check (${toCheck.length} pairs)`, since(tCheck)]);
const disagree = [];
toCheck.forEach((m, j) => {
  if (checked[j].join(' ') !== allBases[m.i].join(' ')) {
    disagree.push(m.merge.slice(0, 10));
    allBases[m.i] = checked[j];
  }
});
const pairs = [];
let noBase = 0;
let crissCross = 0;
merges.forEach((m, i) => {
  const bases = allBases[i];
  if (bases.length === 0) {
    noBase++;
    return;
  }
  if (bases.length > 1) crissCross++;
  pairs.push({ ...m, base: bases[0], bases: bases.length });
});

// 2. Both sessions' changes against the base. The first parent's diff against an old base can
// span years of a busy repository (git.git: about 500 files a pair, far past what one process
// may print as patches), and only the files both sides change matter. So: first every pair's
// raw diff (statuses, renames, blobs; -M as lineChanges) in one diff-tree, then lineChanges
// itself, exactly as the product calls it, limited to the paths both sides change (with both
// ends of each rename, so that it pairs them as the full diff did; checked below). Both keep
// answers by the newer commit, and two merges may share a parent with different bases: the
// [newer, older] pairs go in rounds of distinct newer ids (of at most CHUNK pairs for patches).
const CHUNK = 50;
const MAX_PATHS = 20;
let diffProcesses = 0;
const key = (newer, older) => `${newer} ${older}`;

/**
 * The requests in rounds of distinct newer ids; for patches, also of at most `size` requests
 * whose paths together number at most MAX_PATHS (each request of a round is diffed over all
 * of the round's paths, so a large one goes alone).
 */
function rounds(requests, size = Number.POSITIVE_INFINITY) {
  const out = [];
  for (const r of requests) {
    const paths = r.paths ?? new Set();
    let round = out.find(
      (o) =>
        o.requests.size < size &&
        !o.requests.has(r.newer) &&
        (o.requests.size === 0 || o.paths.size + paths.size <= MAX_PATHS),
    );
    if (!round) {
      round = { requests: new Map(), paths: new Set() };
      out.push(round);
    }
    round.requests.set(r.newer, r);
    for (const p of paths) round.paths.add(p);
  }
  return out;
}

/** Parses `diff-tree --stdin -r -M --raw -z`: per newer id, its entries as FileChange without hunks. */
function parseRaw(out, found) {
  const fields = out.split('\0');
  let current;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    if (/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(field)) {
      current = found.has(field) ? [] : undefined;
      if (current) found.set(field, current);
      continue;
    }
    if (!field.startsWith(':')) continue;
    const [modeA = '', modeB = '', oldBlob = '', newBlob = '', status = ''] = field.slice(1).split(' ');
    const first = fields[++i];
    const second = status[0] === 'R' || status[0] === 'C' ? fields[++i] : first;
    const kind = status[0];
    current?.push({
      status: kind === 'A' ? 'added' : kind === 'D' ? 'deleted' : kind === 'R' ? 'renamed' : 'modified',
      from: first,
      path: second,
      oldBlob: kind === 'A' || /^0+$/.test(oldBlob) ? null : oldBlob,
      newBlob: kind === 'D' || /^0+$/.test(newBlob) ? null : newBlob,
      binary: modeA === '160000' || modeB === '160000',
      hunks: [],
    });
  }
}

function rawChanges(requests) {
  const result = new Map();
  for (const { requests: round } of rounds(requests)) {
    diffProcesses++;
    const found = new Map([...round.keys()].map((newer) => [newer, []]));
    const input = [...round.values()].map((r) => `${r.newer} ${r.older}\n`).join('');
    parseRaw(gitSync(['diff-tree', '--stdin', '-r', '-M', '--raw', '-z'], input), found);
    for (const [newer, r] of round) result.set(key(newer, r.older), found.get(newer));
  }
  return result;
}

const requests = new Map();
for (const p of pairs)
  for (const newer of [p.p1, p.p2])
    if (newer !== p.base && !requests.has(key(newer, p.base)))
      requests.set(key(newer, p.base), { newer, older: p.base, paths: new Set() });
const raw = phase('diff-tree --raw (every file of every pair)', () => rawChanges([...requests.values()]));
const rawOf = (newer, older) => raw.get(key(newer, older)) ?? [];
if (requests.size > 0 && [...raw.values()].every((files) => files.length === 0))
  throw new Error('git diff-tree gave no changes at all');

/** The files both sides change, matched by their path at the merge base. */
const byFrom = (files) => {
  const map = new Map();
  for (const f of files) if (!map.has(f.from)) map.set(f.from, f);
  return map;
};
const shared = [];
for (const p of pairs) {
  const a = byFrom(rawOf(p.p1, p.base));
  p.aFiles = a;
  p.bFiles = byFrom(rawOf(p.p2, p.base));
  p.files = [];
  for (const [from, b] of p.bFiles) {
    const fa = a.get(from);
    if (!fa) continue;
    const file = { pair: p, from, a: fa, b };
    p.files.push(file);
    shared.push(file);
    for (const [side, f] of [
      [p.p1, fa],
      [p.p2, b],
    ])
      if (side !== p.base)
        for (const name of [f.from, f.path]) requests.get(key(side, p.base)).paths.add(name);
  }
}

// The hunks, from lineChanges, of the files both sides change.
let renameMismatch = 0;
phase('diff-tree --patch-with-raw (lineChanges, shared paths)', () => {
  const wanted = [...requests.values()].filter((r) => r.paths.size > 0);
  const hunks = new Map();
  for (const { requests: round, paths } of rounds(wanted, CHUNK)) {
    diffProcesses++;
    gitProcesses++;
    const found = lineChanges(
      repo,
      [...round.values()].map((r) => [r.newer, r.older]),
      [...paths].sort(),
    );
    for (const [newer, r] of round) hunks.set(key(newer, r.older), found.get(newer) ?? []);
  }
  for (const f of shared) {
    const { pair } = f;
    for (const [side, change] of [
      [pair.p1, f.a],
      [pair.p2, f.b],
    ]) {
      const full = (hunks.get(key(side, pair.base)) ?? []).find(
        (c) => c.from === change.from && c.path === change.path,
      );
      if (!full || full.status !== change.status) renameMismatch++;
      if (full) {
        change.hunks = full.hunks;
        change.binary ||= full.binary;
      }
    }
  }
});

// The texts: base, P1's and P2's version of each file both sides change, in one cat-file.
const wantedIds = [];
const slot = new Map();
const want = (id) => {
  if (id === null) return -1;
  if (!slot.has(id)) {
    slot.set(id, wantedIds.length);
    wantedIds.push(id);
  }
  return slot.get(id);
};
for (const f of shared) {
  const { a, b } = f;
  f.baseAt = want(a.oldBlob);
  f.p1At = want(a.newBlob);
  f.p2At = want(b.newBlob);
}
// In calls of at most BLOBS_PER_CALL ids: readObjects holds all its output in one buffer.
const BLOBS_PER_CALL = 2000;
const objects = phase(`cat-file --batch (${wantedIds.length} blobs)`, () => {
  const out = [];
  for (let i = 0; i < wantedIds.length; i += BLOBS_PER_CALL) {
    gitProcesses++;
    out.push(...readObjects(repo, wantedIds.slice(i, i + BLOBS_PER_CALL)));
  }
  return out;
});
const textAt = (at) => (at < 0 ? '' : objects[at]?.type === 'blob' ? objects[at].text : undefined);

// 3. The truth, all pairs in one merge-tree (more only when a pair cannot be merged at all).
const outcomes = phase('merge-tree --stdin', () => {
  gitProcesses++;
  return mergeTrees(
    repo,
    pairs.map((p) => [p.p1, p.p2]),
  );
});

// 4. What the product says, file by file.
const counts = { large: 0, nul: 0, invalidScript: 0, noSpans: 0, ownDiffDiffers: 0 };
const invalid = [];
/** The lines of `text` after the hunks of `hunks`: the check that a diff is a valid script. */
function applyHunks(lines, hunks, next) {
  const out = [];
  let at = 0;
  for (const h of hunks) {
    const start = h.old.first - 1;
    if (start < at) return undefined;
    out.push(...lines.slice(at, start), ...next.slice(h.new.first - 1, h.new.first - 1 + h.new.count));
    at = start + h.old.count;
  }
  out.push(...lines.slice(at));
  return out;
}
const minDistance = (spans, hunks) => {
  let best = Number.POSITIVE_INFINITY;
  for (const s of spans) for (const h of hunks) best = Math.min(best, linesBetween(s, h.old));
  return best;
};
for (const f of shared) {
  const { a, b } = f;
  const texts = [textAt(f.baseAt), textAt(f.p1At), textAt(f.p2At)];
  const [base, p1, p2] = texts;
  f.sameResult = p1 !== undefined && p1 === p2 && a.path === b.path;
  f.gitDistance = minDistance(
    b.hunks.map((h) => h.old),
    a.hunks,
  );
  if (a.binary || b.binary || texts.some((t) => t?.includes('\0'))) {
    if (!a.binary && !b.binary) counts.nul++;
    f.whole = 'binary';
  } else if (a.status === 'deleted') f.whole = 'deleted by A';
  else if (a.status === 'added') f.whole = 'added by both';
  if (f.whole) continue;
  if (base === undefined || p2 === undefined || [base, p2].some((t) => t.length > MAX_BLOB_BYTES)) {
    // Left out of the line index: compared through git's hunks of B instead.
    counts.large++;
    f.spans = b.hunks.map((h) => h.old);
  } else {
    const baseLines = splitLines(base);
    const p2Lines = splitLines(p2);
    const script = diffLines(baseLines, p2Lines);
    const applied = applyHunks(baseLines, script, p2Lines);
    if (!applied || applied.length !== p2Lines.length || applied.some((l, i) => l !== p2Lines[i])) {
      counts.invalidScript++;
      if (invalid.length < 3) invalid.push(`${f.pair.merge.slice(0, 10)} ${f.from}`);
    }
    const identity = diffLines(baseLines, baseLines);
    f.spans = replacedSpans(base, p2).map((s) => spanBefore(s, identity));
    const gitSpans = b.hunks.map((h) => `${h.old.first},${h.old.count}`).join(' ');
    if (gitSpans !== f.spans.map((s) => `${s.first},${s.count}`).join(' ')) counts.ownDiffDiffers++;
  }
  if (f.spans.length === 0) counts.noSpans++;
  f.distance = minDistance(f.spans, a.hunks);
}

// The conflicted paths each pair's files account for; the rest are conflicts we do not model.
const failed = pairs.filter((_, i) => outcomes[i].status === 'failed').length;
const unmodelled = [];
pairs.forEach((p, i) => {
  const outcome = outcomes[i];
  p.outcome = outcome.status;
  const conflicted = new Set(outcome.status === 'conflict' ? outcome.paths : []);
  const claimed = new Set();
  for (const f of p.files) {
    const names = [f.from, f.a.path, f.b.path];
    f.conflict = names.some((n) => conflicted.has(n));
    for (const n of names) if (conflicted.has(n)) claimed.add(n);
  }
  for (const path of conflicted) {
    if (claimed.has(path)) continue;
    const side = (files) => [...files.values()].find((c) => c.path === path || c.from === path);
    const a = side(p.aFiles);
    const b = side(p.bFiles);
    const how = (c) => (c ? `${c.status}${c.from !== c.path ? ` ${c.from} -> ${c.path}` : ''}` : 'untouched');
    unmodelled.push({ pair: p, path, how: `A ${how(a)}, B ${how(b)}` });
  }
});

const warns = (f, near) => Boolean(f.whole) || f.distance <= near;
const fpReason = (f, near) => {
  if (f.whole) return `whole file: ${f.whole}`;
  if (f.sameResult) return 'both sides made the same change';
  if (f.distance > 0) return `near, not touching (1..${near} lines apart)`;
  if (f.gitDistance > 0) return "touching in our diff, apart in git's";
  return 'touching or overlapping, git merged it';
};
const fnReason = (f, near) => {
  if (f.spans.length === 0) return 'B changes no line as we split lines';
  if (f.gitDistance <= near) return "apart in our diff, near in git's";
  return `apart (more than ${near} lines) in both diffs`;
};

function measure(near, only = () => true) {
  const file = { tp: 0, fp: 0, fn: 0, tn: 0 };
  const pair = { tp: 0, fp: 0, fn: 0, tn: 0 };
  const fps = new Map();
  const fns = new Map();
  const add = (map, reason, item) => map.set(reason, [...(map.get(reason) ?? []), item]);
  for (const f of shared) {
    if (f.pair.outcome === 'failed' || !only(f.pair)) continue;
    const w = warns(f, near);
    if (w && f.conflict) file.tp++;
    else if (w) {
      file.fp++;
      add(fps, fpReason(f, near), f);
    } else if (f.conflict) {
      file.fn++;
      add(fns, fnReason(f, near), f);
    } else file.tn++;
  }
  for (const u of unmodelled) {
    if (!only(u.pair)) continue;
    file.fn++;
    add(fns, 'conflict on a path no file both sides change', u);
  }
  for (const p of pairs) {
    if (p.outcome === 'failed' || !only(p)) continue;
    const w = p.files.some((f) => warns(f, near));
    const c = p.outcome === 'conflict';
    pair[w ? (c ? 'tp' : 'fp') : c ? 'fn' : 'tn']++;
  }
  return { near, file, pair, fps, fns };
}

const pct = (num, den) => (den === 0 ? 'n/a' : `${((100 * num) / den).toFixed(1)}%`);
const precision = (c) => pct(c.tp, c.tp + c.fp);
const recall = (c) => pct(c.tp, c.tp + c.fn);
const confusion = (c) => `TP ${c.tp}  FP ${c.fp}  FN ${c.fn}  TN ${c.tn}`;

const oneBase = (p) => p.bases === 1;
const results = [NEAR_LINES, 0].map((near) => ({ ...measure(near), single: measure(near, oneBase) }));
const elapsed = since(started);
const merged = pairs.filter((p) => p.outcome !== 'failed');
const command = `node bench/line-precision.mjs${repoPath === realpathSync(defaultRepo) ? '' : ` --repo ${repoPath}`} --pairs ${wantedPairs}`;

if (merges.length === 0)
  console.log(`\nNo two-parent merge in the history of HEAD (${wantedPairs} asked for): nothing to measure.`);
else if (merges.length < wantedPairs)
  console.log(
    `\nOnly ${merges.length} two-parent merge${merges.length === 1 ? '' : 's'} in the history of HEAD ` +
      `(${wantedPairs} asked for): the figures below come from ${merges.length === 1 ? 'it' : 'these'} alone ` +
      `and say little.${merges.length < 200 ? ' A statement of precision wants 200 pairs or more (try --repo on a larger repository).' : ''}`,
  );
report(`Line warnings against git merge-tree: ${repoPath}`, [
  ['merges (newest two-parent merges of HEAD, all, not --first-parent)', String(merges.length)],
  ['  skipped: no merge base', String(noBase)],
  ['  skipped: merge-tree could not merge them', String(failed)],
  ['  with more than one merge base (we use the first)', String(crissCross)],
  [
    `merge bases checked against git merge-base --all`,
    `${toCheck.length - disagree.length} of ${toCheck.length} agree${disagree.length ? ` (not: ${disagree.join(' ')})` : ''}`,
  ],
  ['pairs measured', String(merged.length)],
  ['pairs merge-tree finds conflicted', String(merged.filter((p) => p.outcome === 'conflict').length)],
  ['files changed by both sides', String(shared.filter((f) => f.pair.outcome !== 'failed').length)],
  ['  of which conflicted', String(shared.filter((f) => f.pair.outcome !== 'failed' && f.conflict).length)],
  ['conflicted paths no file both sides change accounts for', String(unmodelled.length)],
  [
    'whole-file rules (deleted by A / added by both / binary)',
    ['deleted by A', 'added by both', 'binary']
      .map((w) => shared.filter((f) => f.whole === w).length)
      .join(' / '),
  ],
  ['blobs over 512 KB (git hunks used) / holding NUL (binary)', `${counts.large} / ${counts.nul}`],
  ["files where our diff's spans differ from git diff's", String(counts.ownDiffDiffers)],
  ['files where B changes no line as splitLines counts', String(counts.noSpans)],
  ['diffLines scripts that do not turn base into P2', String(counts.invalidScript)],
  ['files whose limited diff pairs renames unlike the full one', String(renameMismatch)],
]);
const singles = merged.filter(oneBase);
const figures = (label, r, list) => [
  [
    `${label}: pairs / conflicted / files both change / conflicted`,
    [
      list.length,
      list.filter((p) => p.outcome === 'conflict').length,
      list.reduce((n, p) => n + p.files.length, 0),
      list.reduce((n, p) => n + p.files.filter((f) => f.conflict).length, 0),
    ].join(' / '),
  ],
  [`${label}: file precision / recall`, `${precision(r.file)} / ${recall(r.file)}   ${confusion(r.file)}`],
  [`${label}: pair precision / recall`, `${precision(r.pair)} / ${recall(r.pair)}   ${confusion(r.pair)}`],
];
const reasons = (kind, all, single) =>
  [...all]
    .sort((x, y) => y[1].length - x[1].length)
    .map(([why, list]) => [`  ${kind}: ${why}`, `${list.length} / ${single.get(why)?.length ?? 0}`]);
for (const r of results) {
  report(
    `near = ${r.near}${r.near === NEAR_LINES ? ' (the product: NEAR_LINES)' : " (git's rule: touching or overlapping)"}`,
    [
      ...figures('all pairs', r, merged),
      ...figures('one merge base', r.single, singles),
      ['files wrongly warned / missed, by cause (all / one merge base):', ''],
      ...reasons('FP', r.fps, r.single.fps),
      ...reasons('FN', r.fns, r.single.fns),
    ],
  );
}
report('Time', [
  ...phases.map(([name, ms]) => [name, `${ms.toFixed(0)} ms`]),
  ['total', `${(elapsed / 1000).toFixed(1)} s`],
  [
    'git processes',
    `${gitProcesses} (${toCheck.length} merge-base, ${diffProcesses} diff-tree, rest batched)`,
  ],
]);
if (invalid.length) console.log(`\ninvalid diffLines scripts, e.g.: ${invalid.join('; ')}`);
console.log(`\nReproduce: npm run build && ${command}`);

if (examples > 0) {
  const describe = (f) => {
    if (f.how) return `${f.pair.merge.slice(0, 10)} ${f.path}: ${f.how}`;
    const spans = (list) =>
      list
        .slice(0, 4)
        .map((s) => `${s.first}+${s.count}`)
        .join(' ');
    return (
      `${f.pair.merge.slice(0, 10)} ${f.from}${f.b.path !== f.from ? ` -> B ${f.b.path}` : ''}` +
      `${f.a.path !== f.from ? ` -> A ${f.a.path}` : ''} (A ${f.a.status}, B ${f.b.status}) distance ${f.distance ?? '-'}` +
      ` git ${f.gitDistance}; B ${spans(f.spans ?? [])}; A ${spans(f.a.hunks.map((h) => h.old))}`
    );
  };
  for (const r of results)
    for (const [kind, map] of [
      ['FP', r.fps],
      ['FN', r.fns],
    ])
      for (const [why, list] of map) {
        console.log(`\nnear ${r.near} ${kind}: ${why} (${list.length})`);
        for (const f of list.slice(0, examples)) console.log(`  ${describe(f)}`);
      }
}
