import { appendFileSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Context } from '../context/context.js';
import { localStateFile } from '../core/local-state.js';

/**
 * The warnings about lines already given to an agent (Claude Code's PreToolUse): a context
 * that allows a tool reaches the model only with the tool's result, after the edit, so the
 * first attempt at an edit that meets another session's lines is denied with the warning, and
 * the same edit tried again within RETRY_WINDOW_MS goes through (`policy.lines: warn`).
 * Local to the clone, like every other thing an agent was told. One line per warning
 * (`<ms>\t<key>`), appended: a warning costs one write on the agent's path, and the file is
 * rewritten with only the recent lines once it grows past MAX_BYTES.
 */
const RETRY_WINDOW_MS = 10 * 60_000;
const MAX_BYTES = 64 * 1024;

const file = (ctx: Context) => localStateFile(ctx.repo.commonDir, 'line-warnings.log');

/** The warnings given within the window, by key (keys are JSON: no tab, no newline). */
function recent(ctx: Context): Map<string, number> {
  const found = new Map<string, number>();
  let text = '';
  try {
    text = readFileSync(file(ctx), 'utf8');
  } catch {
    return found;
  }
  for (const line of text.split('\n')) {
    const tab = line.indexOf('\t');
    const at = Number(line.slice(0, tab));
    if (tab > 0 && Number.isFinite(at) && ctx.nowMs - at >= 0 && ctx.nowMs - at <= RETRY_WINDOW_MS)
      found.set(line.slice(tab + 1), at);
  }
  return found;
}

/** Whether this warning (`key`: the conversation, the edit, the lines on both sides) was given lately. */
export const warnedLately = (ctx: Context, key: string): boolean => recent(ctx).has(key);

/**
 * Remembers that this warning was given now. False when it cannot be written: the caller must
 * not deny then, or the same edit would be denied forever.
 */
export function rememberWarning(ctx: Context, key: string): boolean {
  const log = file(ctx);
  try {
    try {
      appendFileSync(log, `${ctx.nowMs}\t${key}\n`);
    } catch {
      mkdirSync(path.dirname(log), { recursive: true });
      appendFileSync(log, `${ctx.nowMs}\t${key}\n`);
    }
    if (statSync(log).size > MAX_BYTES) {
      const kept = [...recent(ctx)].map(([k, at]) => `${at}\t${k}\n`).join('');
      writeFileSync(`${log}.${process.pid}.tmp`, kept);
      renameSync(`${log}.${process.pid}.tmp`, log);
    }
    return true;
  } catch {
    return false;
  }
}
