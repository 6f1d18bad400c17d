import { randomHex } from '../core/ids.js';
import { appendNote, mergeNotes } from '../git/notes.js';
import { deleteRef, isAncestor, resolveRef, updateRef } from '../git/refs.js';
import type { Repo } from '../git/repo.js';
import { type Author, backoff, compareAndSwap, identityEnv, ZERO } from './records.js';
import { NOTES_MIRROR, NOTES_REF } from './refs.js';

/**
 * Notes in refs/notes/consortium: one JSON object per line, so notes written on one commit by
 * different machines merge without loss (`git notes merge -s cat_sort_uniq`), and
 * `git log --notes=consortium` shows them. `git notes` is not compare-and-swap, so every
 * write goes through a private temporary notes ref and lands with update-ref OLD NEW.
 */
export interface NoteEntry {
  /** What the note records: provenance, override, merge, handoff, ... */
  type: string;
  at: string;
  [key: string]: unknown;
}

const refSha = (repo: Repo, ref: string) => resolveRef(repo, ref);

/** Runs `git notes` on a private copy of the notes ref and lands the result by compare-and-swap. */
function withNotesCopy(repo: Repo, author: Author, edit: (tmpRef: string) => boolean): boolean {
  const env = identityEnv(author);
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = refSha(repo, NOTES_REF);
    const tmp = `refs/notes/consortium-tmp-${process.pid}-${randomHex(3)}`;
    try {
      if (base) updateRef(repo, tmp, base);
      if (!edit(tmp)) return false;
      const next = refSha(repo, tmp);
      if (!next || next === base) return true;
      if (compareAndSwap(repo, NOTES_REF, next, base ?? ZERO)) return true;
    } finally {
      deleteRef(repo, tmp, undefined, env);
    }
    backoff(attempt);
  }
  return false;
}

/** Adds one entry to the note of `commit`, keeping every line already there. */
export function addNote(repo: Repo, commit: string, entry: NoteEntry, author: Author): boolean {
  return addNotes(repo, [{ commit, entry }], author);
}

/**
 * Adds entries to the notes of commits, keeping every line already there, as one change of the
 * notes ref: on one private copy, one `git notes append` per commit (git keeps the tree's
 * fan-out as it should; a note written around it ends up in the tree twice once the tree fans
 * out, which `git notes merge` cannot read), then one compare-and-swap.
 */
export function addNotes(repo: Repo, items: { commit: string; entry: NoteEntry }[], author: Author): boolean {
  if (items.length === 0) return true;
  const lines = new Map<string, string[]>();
  for (const { commit, entry } of items)
    lines.set(commit, [...(lines.get(commit) ?? []), JSON.stringify(entry)]);
  const env = identityEnv(author);
  return withNotesCopy(repo, author, (tmp) =>
    [...lines].every(([commit, text]) => appendNote(repo, tmp, commit, text.join('\n'), env)),
  );
}

export function parseNote(text: string): NoteEntry[] {
  const entries: NoteEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      const value = JSON.parse(line);
      if (value && typeof value === 'object' && typeof value.type === 'string') entries.push(value);
    } catch {
      // a hand-written line: not ours to read
    }
  }
  return entries;
}

/**
 * Folds the notes fetched from the remote (refs/notes/consortium-remote) into ours: lines of
 * both sides are kept, sorted and de-duplicated. Returns whether anything changed.
 */
export function mergeFetchedNotes(repo: Repo, author: Author): boolean {
  const theirs = refSha(repo, NOTES_MIRROR);
  if (!theirs) return false;
  const ours = refSha(repo, NOTES_REF);
  if (!ours) return compareAndSwap(repo, NOTES_REF, theirs, ZERO);
  if (ours === theirs) return false;
  if (isAncestor(repo, theirs, ours)) return false;
  return withNotesCopy(repo, author, (tmp) => mergeNotes(repo, tmp, NOTES_MIRROR, identityEnv(author)));
}
