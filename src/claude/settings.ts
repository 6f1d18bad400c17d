import { readFileSync } from 'node:fs';
import { usageError } from '../core/errors.js';
import type { EventName } from './event.js';

/**
 * The hooks git-consortium puts into a Claude Code settings file, and the merge that adds them
 * (and the allow rules of the commands) to whatever the file already holds: other hooks,
 * permissions and keys stay as they are, and merging twice gives the same file.
 *
 * Each hook runs `git consortium claude-hook <Event>` (without the user's NODE_EXTRA_CA_CERTS:
 * WITHOUT_CA_CERTS below). Claude Code runs hook commands through the shell with the
 * environment `claude` was started in, and from the conversation's folder:
 * a workspace folder, the top, or a worktree (which has no node_modules of its own). So the
 * command must not depend on the folder: `git consortium` finds the git-consortium binary on
 * PATH, exactly where the user's own `git consortium ...` (and the allow rules) find it; a
 * relative path would break in workspaces and worktrees, an absolute one on every other machine
 * (the file is committed). When the toolkit is not installed, git exits 1: a non-blocking hook
 * error, so the agent is never stopped by a missing install.
 */
export interface HookSpec {
  event: EventName;
  matcher?: string;
  /** Seconds. SessionEnd is further capped by Claude Code (1.5 s for all SessionEnd hooks). */
  timeout: number;
}

export const EDIT_TOOLS = 'Edit|Write|MultiEdit|NotebookEdit';
/** Bash as well: a leased file can be written by a command as easily as by Edit. */
export const GUARDED_TOOLS = `${EDIT_TOOLS}|Bash`;

export const HOOKS: readonly HookSpec[] = [
  { event: 'SessionStart', timeout: 30 },
  { event: 'PreToolUse', matcher: GUARDED_TOOLS, timeout: 15 },
  { event: 'PostToolUse', matcher: GUARDED_TOOLS, timeout: 15 },
  { event: 'PreCompact', timeout: 60 },
  { event: 'SessionEnd', timeout: 5 },
];

/**
 * Node 20 reads NODE_EXTRA_CA_CERTS as it starts: where a proxy's certificate is set for Claude
 * Code (as its own documentation advises), every tool call would pay for reading it (50 ms for
 * Debian's bundle on a 2-core machine, against 32 ms for all of `node -e 0`). No hook opens a
 * TLS connection, so the hook starts without it, and cli.cts gives it back to what the hook
 * starts (git, and a credential helper git may start).
 */
// biome-ignore lint/suspicious/noTemplateCurlyInString: the shell's ${...}, unset-safe under set -u
const WITHOUT_CA_CERTS = 'CONSORTIUM_NODE_EXTRA_CA_CERTS="${NODE_EXTRA_CA_CERTS-}" NODE_EXTRA_CA_CERTS=';

export const hookCommand = (event: EventName) => `${WITHOUT_CA_CERTS} git consortium claude-hook ${event}`;

/** A hook command of ours, in any version or spelling (git consortium / git-consortium). */
const OURS = /(^|[\s;&|(])git[ -]consortium\s+claude-hook\b/;

type Json = Record<string, unknown>;
type Group = { matcher?: string; hooks: Json[] };

const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
const isOurs = (h: unknown) => isObject(h) && typeof h.command === 'string' && OURS.test(h.command);

function canonical(spec: HookSpec): Group {
  // Key order matters for the byte-for-byte comparison of a second run: matcher, then hooks.
  const hooks = [{ type: 'command', command: hookCommand(spec.event), timeout: spec.timeout }];
  return spec.matcher === undefined ? { hooks } : { matcher: spec.matcher, hooks };
}

/** Whether a settings object runs our hooks (any spelling, any version). */
export function hasOurHooks(settings: unknown): boolean {
  if (!isObject(settings) || !isObject(settings.hooks)) return false;
  return Object.values(settings.hooks).some(
    (groups) =>
      Array.isArray(groups) &&
      groups.some((g) => isObject(g) && Array.isArray(g.hooks) && g.hooks.some(isOurs)),
  );
}

/** Whether the settings file at `file` runs our hooks (false when it is missing or unreadable). */
export function fileRunsOurHooks(file: string): boolean {
  try {
    return hasOurHooks(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return false;
  }
}

/** `settings` without any hook of ours (for uninstall); other hooks and keys stay. */
export function withoutOurHooks(settings: Json): Json {
  const result = structuredClone(settings);
  if (!isObject(result.hooks)) return result;
  const hooks = result.hooks as Json;
  for (const [event, groups] of Object.entries(hooks)) {
    if (!Array.isArray(groups)) continue;
    const kept = groups.flatMap((g) => {
      if (!isObject(g) || !Array.isArray(g.hooks)) return [g];
      const rest = g.hooks.filter((h) => !isOurs(h));
      return rest.length ? [{ ...g, hooks: rest }] : [];
    });
    if (kept.length) hooks[event] = kept;
    else delete hooks[event];
  }
  if (Object.keys(hooks).length === 0) delete result.hooks;
  return result;
}

/**
 * `settings` with our hooks and `allow` rules merged in. `file` names the settings file in
 * errors: a part we would have to change but cannot read is refused, never overwritten.
 */
export function mergeSettings(settings: Json, allow: readonly string[], file: string): Json {
  const merged = structuredClone(settings);
  if (merged.hooks !== undefined && !isObject(merged.hooks))
    throw usageError(`${file}: "hooks" is not an object; fix it by hand, then run init again.`);
  const hooks = (merged.hooks ?? {}) as Json;
  for (const spec of HOOKS) {
    const current = hooks[spec.event];
    if (current !== undefined && !Array.isArray(current))
      throw usageError(`${file}: "hooks.${spec.event}" is not a list; fix it by hand, then run init again.`);
    hooks[spec.event] = mergeGroups((current ?? []) as unknown[], canonical(spec));
  }
  merged.hooks = hooks;
  if (allow.length === 0) return merged;
  if (merged.permissions !== undefined && !isObject(merged.permissions))
    throw usageError(`${file}: "permissions" is not an object; fix it by hand, then run init again.`);
  const permissions = (merged.permissions ?? {}) as Json;
  if (permissions.allow !== undefined && !Array.isArray(permissions.allow))
    throw usageError(`${file}: "permissions.allow" is not a list; fix it by hand, then run init again.`);
  const rules = [...((permissions.allow ?? []) as unknown[])];
  for (const rule of allow) if (!rules.includes(rule)) rules.push(rule);
  permissions.allow = rules;
  merged.permissions = permissions;
  return merged;
}

/**
 * Keeps every group and every hook that is not ours; ours ends up exactly once, as `ours`:
 * where it already is when it is there unchanged, else appended.
 */
function mergeGroups(groups: unknown[], ours: Group): unknown[] {
  const same = (g: unknown) => JSON.stringify(g) === JSON.stringify(ours);
  const keep = groups.findIndex(same);
  const result: unknown[] = [];
  for (const [i, group] of groups.entries()) {
    const mixed = i !== keep && isObject(group) && Array.isArray(group.hooks) && group.hooks.some(isOurs);
    if (!mixed) result.push(group);
    else {
      const rest = (group.hooks as unknown[]).filter((h) => !isOurs(h));
      if (rest.length) result.push({ ...group, hooks: rest });
    }
  }
  if (keep < 0) result.push(ours);
  return result;
}

/** The indentation a JSON text uses (two spaces when it cannot tell). */
export function indentOf(text: string): string {
  return /^\{\s*\n([ \t]+)\S/.exec(text)?.[1] ?? '  ';
}
