import type { Context } from '../context/context.js';
import { localStateFile, readJson, writeJson } from '../core/local-state.js';

/**
 * The warnings about lines already given to an agent (Claude Code's PreToolUse): a context
 * that allows a tool reaches the model only with the tool's result, after the edit, so the
 * first attempt at an edit that meets another session's lines is denied with the warning, and
 * the same edit tried again within RETRY_WINDOW_MS goes through (`policy.lines: warn`).
 * Local to the clone, like every other thing an agent was told.
 */
const RETRY_WINDOW_MS = 10 * 60_000;

interface Warned {
  format: number;
  warned: Record<string, number>;
}

const file = (ctx: Context) => localStateFile(ctx.repo.commonDir, 'line-warnings.json');

/** Whether this warning (`key`: the conversation, the file, the lines on both sides) was given lately. */
export function warnedLately(ctx: Context, key: string): boolean {
  const at = readJson<Warned>(file(ctx))?.warned?.[key];
  return typeof at === 'number' && ctx.nowMs - at >= 0 && ctx.nowMs - at <= RETRY_WINDOW_MS;
}

/**
 * Remembers that this warning was given now (and forgets the ones past the window). False when
 * it cannot be written: the caller must not deny then, or the same edit would be denied forever.
 */
export function rememberWarning(ctx: Context, key: string): boolean {
  const data = readJson<Warned>(file(ctx));
  const warned: Record<string, number> = {};
  for (const [k, at] of Object.entries(data?.warned ?? {}))
    if (typeof at === 'number' && ctx.nowMs - at <= RETRY_WINDOW_MS) warned[k] = at;
  warned[key] = ctx.nowMs;
  return writeJson(file(ctx), { format: 1, warned });
}
