import { mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { Context } from '../context/context.js';
import { iso, now } from '../core/clock.js';
import type { CheckpointData } from '../render/checkpoint.js';
import { parseCheckpoint } from '../render/checkpoint.js';
import { type Session, updateSession } from '../store/sessions.js';
import { CHECKPOINT_DIR } from './checkpoint.js';
import { authorFor } from './sessions.js';

/**
 * Folding emergency checkpoints back in: the next start or sync, with git working again, folds
 * each pending file into a session record and moves it to folded/, and the record remembers the
 * file's name, so a checkpoint is never folded twice.
 */
export interface Pending {
  name: string;
  file: string;
  data: Partial<CheckpointData> & { message: string };
}

/** Checkpoint files not yet folded, oldest first. */
export function pendingCheckpoints(top: string): Pending[] {
  const dir = path.join(top, CHECKPOINT_DIR);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^session-.*\.md$/.test(n));
  } catch {
    return [];
  }
  return names.sort().flatMap((name) => {
    const file = path.join(dir, name);
    try {
      return [{ name, file, data: parseCheckpoint(readFileSync(file, 'utf8')) }];
    } catch {
      return [];
    }
  });
}

export interface Folded {
  name: string;
  session: string;
  message: string;
}

/**
 * Folds pending checkpoints into session records: into the checkpoint's own session when it
 * is known here, else into `fallback` (the session being started or resumed) when it is the
 * same researcher's. Others stay pending for a later start or sync.
 */
export function foldCheckpoints(ctx: Context, fallback?: Session): { folded: Folded[]; waiting: number } {
  const pending = pendingCheckpoints(ctx.repo.top);
  if (pending.length === 0) return { folded: [], waiting: 0 };
  const sessions = new Map(ctx.sessions().sessions.map((s) => [s.id, s]));
  const folded: Folded[] = [];
  let waiting = 0;
  for (const p of pending) {
    const own = p.data.session ? sessions.get(p.data.session) : undefined;
    const fits = fallback && (!p.data.researcher || p.data.researcher === fallback.researcher);
    const target = own ?? (fits ? fallback : undefined);
    if (!target) {
      waiting++;
      continue;
    }
    let added = false;
    updateSession(
      ctx.repo,
      target.id,
      'checkpoint',
      (record) => {
        const list = Array.isArray(record.extra?.checkpoints)
          ? (record.extra.checkpoints as { id?: unknown }[])
          : [];
        if (list.some((c) => c.id === p.name)) return undefined;
        added = true;
        const entry = { id: p.name, foldedAt: iso(now()), ...p.data };
        return { ...record, extra: { ...record.extra, checkpoints: [...list, entry] } };
      },
      authorFor(ctx, target.researcher),
    );
    const done = path.join(path.dirname(p.file), 'folded');
    try {
      mkdirSync(done, { recursive: true });
      renameSync(p.file, path.join(done, p.name));
    } catch {
      // Another process moved it first; the record's list keeps it from being folded twice.
    }
    if (added) folded.push({ name: p.name, session: target.id, message: p.data.message });
  }
  if (folded.length) ctx.invalidate();
  return { folded, waiting };
}
