import { readFileSync } from 'node:fs';
import path from 'node:path';
import { diffLines, type Hunk, splitLines } from '../analysis/line-diff.js';
import { linesBetween, NEAR_LINES, type Span, spanAfter, spanBefore } from '../analysis/lines.js';
import { isLive } from '../analysis/state.js';
import type { Context } from '../context/context.js';
import { readObjects } from '../git/objects.js';
import type { Session } from '../store/sessions.js';
import { indexedPaths, type LineEntry, lineEntries } from './line-index.js';

/**
 * Do these lines of a file meet lines another live session changed (SPEC section 7,
 * `policy.lines`)? Read from the line index (services/line-index.ts) without git: the lines
 * are counted in the file as it is now, carried back to each session's merge base through a
 * diff with the merge-base version the index keeps, met with that session's hunks (touching,
 * overlapping, or at most NEAR_LINES unchanged lines away), and shown again in today's numbering.
 */
export interface TheirLines {
  /** Their change, where it is in the file as it is now. */
  span: Span;
  /** The same lines at the merge base. */
  base: Span;
  /** What they wrote there, as their branch numbers it. */
  their: Span;
  /** The first lines of what they wrote there ([] where they only removed lines). */
  excerpt: string[];
}

export interface LineMeeting {
  session: string;
  researcher: string;
  branch: string | null;
  /** Their tip, whose version of the file this is. */
  tip: string;
  /** The path as I have it, and as their branch has it (a rename). */
  path: string;
  theirPath: string;
  /** `deleted`: their branch removes the file; `added`: it adds one where I have one; `binary`: no lines. */
  status: LineEntry['status'] | 'binary';
  /** My lines that meet theirs, in the file as it is now. */
  mine: Span[];
  theirs: TheirLines[];
}

/**
 * What I change in a file: the spans an edit replaces, told from the file's text now (undefined
 * when there is no file; the answer undefined when it cannot be told); or `changes`, everything
 * the file as it is now differs in from the merge base.
 */
export type MyLines = ((current: string | undefined) => readonly Span[] | undefined) | 'changes';

/**
 * The meetings of my lines of `file` (from the top of the repository) with the other live
 * sessions' changes. The file is read only when the index holds other sessions' work on it.
 */
export function lineMeetings(
  ctx: Context,
  file: string,
  lines: MyLines,
  me: Session | undefined,
  near = NEAR_LINES,
): LineMeeting[] {
  if (ctx.config.policy.lines === 'off') return [];
  const { entries, blobs } = lineEntries(ctx.repo.commonDir, file);
  if (entries.length === 0) return [];
  const others = othersLive(ctx, me);
  const relevant = entries.filter((e) => others.has(e.session));
  if (relevant.length === 0) return [];
  const current = currentText(ctx, file);
  // A file I do not have changes nothing of mine (their new path after a rename, say).
  if (lines === 'changes' && current === undefined) return [];
  const mine = lines === 'changes' ? undefined : lines(current);
  if (mine?.length === 0 || (lines !== 'changes' && !mine)) return [];
  const now = splitLines(current ?? '');
  const toNow = new Map<string | null, Hunk[] | undefined>();
  const hunksToNow = (blob: string | null) => {
    if (!toNow.has(blob)) {
      const text = blob === null ? undefined : blobs[blob];
      toNow.set(blob, text === undefined ? undefined : diffLines(splitLines(text), now));
    }
    return toNow.get(blob);
  };
  const meetings: LineMeeting[] = [];
  for (const entry of relevant) {
    const hunks = hunksToNow(entry.blob);
    // Without the merge-base version (a new file, a binary or too large one), lines are taken
    // as numbered now, and what the worktree changes in it is all of it.
    const all = [{ first: 1, count: now.length }];
    const myNow = mine ?? (hunks ? hunks.map((h) => h.new) : all);
    const myBase = mine
      ? mine.map((s) => (hunks ? spanBefore(s, hunks) : s))
      : hunks
        ? hunks.map((h) => h.old)
        : all;
    if (myNow.length === 0) continue;
    const side = {
      session: entry.session,
      researcher: entry.researcher,
      branch: entry.branch,
      tip: entry.tip,
      path: file,
      theirPath: entry.path,
    };
    const whole =
      entry.binary || entry.status === 'deleted' || (entry.status === 'added' && current !== undefined);
    if (whole) {
      const all = { first: 1, count: now.length };
      meetings.push({
        ...side,
        status: entry.binary ? 'binary' : entry.status,
        mine: [...myNow],
        theirs: [{ span: all, base: all, their: all, excerpt: [] }],
      });
      continue;
    }
    const met = entry.hunks.filter(([first, count]) =>
      myBase.some((s) => linesBetween(s, { first, count }) <= near),
    );
    if (met.length === 0) continue;
    const theirs = met.map(([first, count, newFirst, newCount, excerpt]) => {
      const base = { first, count };
      return {
        span: hunks ? spanAfter(base, hunks) : base,
        base,
        their: { first: newFirst, count: newCount },
        excerpt,
      };
    });
    const close = myNow.filter((_span, i) => theirs.some((t) => linesBetween(myBase[i]!, t.base) <= near));
    meetings.push({ ...side, status: entry.status, mine: close, theirs });
  }
  return meetings;
}

/**
 * The live sessions whose work is not mine: not my session, and not on the branch checked out
 * here (whoever works on my branch shares my lines, and meets them when pulling).
 */
function othersLive(ctx: Context, me: Session | undefined): Set<string> {
  const here = ctx.branch;
  return new Set(
    ctx
      .sessions()
      .sessions.filter(
        (s) =>
          s.id !== me?.id &&
          !(here && s.branch === here) &&
          isLive(s, ctx.nowMs, ctx.config.sessions.staleAfterMs),
      )
      .map((s) => s.id),
  );
}

/** A file of the worktree as it is now, or undefined when there is none (or it cannot be read). */
export function currentText(ctx: Context, file: string): string | undefined {
  try {
    return readFileSync(path.join(ctx.repo.top, file), 'utf8');
  } catch {
    return undefined;
  }
}

/** My working tree's meetings, file by file: what `check --lines [PATH]` shows. */
export interface WorktreeLines {
  path: string;
  meetings: LineMeeting[];
}

/**
 * Every file the index holds other sessions' work on (below `under`, a path from the top, when
 * given), met with my working tree as it is now: committed, staged and unstaged changes alike.
 */
export function worktreeMeetings(ctx: Context, me: Session | undefined, under?: string): WorktreeLines[] {
  const inside = (p: string) =>
    under === undefined || under === '' || p === under || p.startsWith(`${under.replace(/\/$/, '')}/`);
  return indexedPaths(ctx.repo.commonDir)
    .filter(inside)
    .map((p) => ({ path: p, meetings: lineMeetings(ctx, p, 'changes', me) }))
    .filter((w) => w.meetings.length > 0);
}

/** Each meeting's version of the file on their branch, in one cat-file: keyed `tip:path`. */
export function theirTexts(ctx: Context, found: readonly WorktreeLines[]): Map<string, string> {
  const keys = [...new Set(found.flatMap((w) => w.meetings.map((m) => `${m.tip}:${m.theirPath}`)))];
  const texts = new Map<string, string>();
  readObjects(ctx.repo, keys).forEach((object, i) => {
    if (object?.type === 'blob') texts.set(keys[i]!, object.text);
  });
  return texts;
}
