import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import type { Researcher } from '../core/config.js';
import { usageError } from '../core/errors.js';
import { packageFile } from '../core/package-files.js';
import { fileRunsOurHooks, hasOurHooks, indentOf, mergeSettings, withoutOurHooks } from './settings.js';

/**
 * `init --claude`: the Claude Code files, at the top of the repository and in every
 * researcher's workspace, since Claude Code reads a project's settings and commands only from
 * the folder it is started in, and the consortium starts its conversations in workspaces:
 * - .claude/commands/{consortium-compact,mcp-resilient-sync,claude-orient-consortium}.md
 * - .claude/settings.json, with our hooks and the commands' allow rules merged in
 * - the compatibility scripts claude-consortium-session and claude-orient-consortium (at the
 *   top, and a link to them in each workspace, where the old permission rules call them).
 * A workspace's own .claude/settings.local.json is never touched. Files we wrote before are
 * updated; a file of the same name that is not ours is kept unless `force`.
 */
export const TEMPLATES = `${packageFile('templates', 'claude')}${path.sep}`;
export const COMMANDS = ['consortium-compact.md', 'mcp-resilient-sync.md', 'claude-orient-consortium.md'];
export const SCRIPTS = ['claude-consortium-session', 'claude-orient-consortium'];
/** Every file we write carries this line, so a later init knows it may update it. */
export const MARKER = 'Written by git consortium init --claude';
/**
 * Claude Code 2.1.332 reads .claude/settings.json only from the folder it starts in, but
 * <git root>/.claude/settings.local.json from every folder of the worktree: our hooks there are
 * active wherever a conversation starts (the top, src/, a workspace). The same hook command in
 * a workspace's settings.json runs once, not twice, so the committed files keep theirs for
 * clones where init has not run yet. The file is per worktree and untracked: post-checkout
 * writes it into each new linked worktree.
 */
export const LOCAL_SETTINGS = path.join('.claude', 'settings.local.json');
/** The MCP server as Claude Code starts it, from the project's .mcp.json. */
export const MCP_SERVER = 'consortium';
const MCP_ENTRY = { type: 'stdio', command: 'git', args: ['consortium', 'mcp', 'serve'] };

export interface InstallOptions {
  /** Replace files of the same name that the toolkit did not write. */
  force?: boolean;
  /** Only report what would be written (for doctor): nothing is changed. */
  dryRun?: boolean;
}

export interface ClaudeInstallReport {
  /** Paths from the top, created or updated. */
  written: string[];
  unchanged: string[];
  /** Files of the same name that are not ours: left alone (init --force replaces them). */
  kept: string[];
  /** Researchers without a workspace folder yet: nothing written for them. */
  skipped: string[];
}

export function installClaude(
  top: string,
  researchers: Iterable<Researcher>,
  options: InstallOptions = {},
): ClaudeInstallReport {
  const report: ClaudeInstallReport = { written: [], unchanged: [], kept: [], skipped: [] };
  const commands = COMMANDS.map((name) => ({
    name,
    text: readFileSync(path.join(TEMPLATES, 'commands', name), 'utf8'),
  }));
  const allow = [...new Set(commands.flatMap((c) => allowedTools(c.text)))];
  const places = ['.'];
  for (const r of researchers) {
    if (existsSync(path.join(top, r.workspace))) places.push(r.workspace);
    else report.skipped.push(r.id);
  }
  // Every settings file is read (and refused if unreadable) before anything is written.
  const settings = places.map((place) =>
    settingsPlan(top, path.join(place, '.claude', 'settings.json'), allow),
  );
  const local = settingsPlan(top, LOCAL_SETTINGS, []);
  const mcp = mcpPlan(top);
  for (const plan of [local, mcp]) apply(top, plan, options, report);
  for (const place of places) {
    for (const c of commands)
      writeOurs(top, path.join(place, '.claude', 'commands', c.name), c.text, 0o644, options, report);
    apply(top, settings.shift()!, options, report);
    for (const script of SCRIPTS) {
      const text = readFileSync(path.join(TEMPLATES, script), 'utf8');
      if (place === '.') writeOurs(top, script, text, 0o755, options, report);
      else linkTo(top, path.join(place, script), script, options, report);
    }
  }
  return report;
}

/**
 * Our hooks in a worktree's own settings.local.json (a new linked worktree has none: the file
 * is untracked). True when it wrote.
 */
export function installWorktreeSettings(top: string): boolean {
  const plan = settingsPlan(top, LOCAL_SETTINGS, []);
  const report: ClaudeInstallReport = { written: [], unchanged: [], kept: [], skipped: [] };
  apply(top, plan, {}, report);
  return report.written.length > 0;
}

/** Whether a worktree's settings.local.json runs our hooks (so every folder of it does). */
export function worktreeHasHooks(top: string): boolean {
  return fileRunsOurHooks(path.join(top, LOCAL_SETTINGS));
}

/**
 * `uninstall`: our hooks out of every settings file we merged them into, and our server out of
 * .mcp.json; everything else in those files stays. Returns the files changed.
 */
export function uninstallClaude(top: string, workspaces: string[], otherWorktrees: string[] = []): string[] {
  const changed: string[] = [];
  const places = [
    ...[LOCAL_SETTINGS, ...['.', ...workspaces].map((p) => path.join(p, '.claude', 'settings.json'))].map(
      (file) => ({ top, file, shown: path.normalize(file) }),
    ),
    ...otherWorktrees.map((tree) => ({
      top: tree,
      file: LOCAL_SETTINGS,
      shown: path.join(tree, LOCAL_SETTINGS),
    })),
  ];
  for (const place of places) {
    const current = readJsonObject(place.top, place.file);
    if (!current || !hasOurHooks(current)) continue;
    writeFileSync(path.join(place.top, place.file), `${JSON.stringify(withoutOurHooks(current), null, 2)}\n`);
    changed.push(place.shown);
  }
  const mcp = readJsonObject(top, '.mcp.json');
  const servers = mcp?.mcpServers as Record<string, unknown> | undefined;
  if (mcp && servers && typeof servers === 'object' && MCP_SERVER in servers) {
    delete servers[MCP_SERVER];
    if (Object.keys(servers).length === 0) delete mcp.mcpServers;
    if (Object.keys(mcp).length === 0) rmSync(path.join(top, '.mcp.json'));
    else writeFileSync(path.join(top, '.mcp.json'), `${JSON.stringify(mcp, null, 2)}\n`);
    changed.push('.mcp.json');
  }
  return changed;
}

function readJsonObject(top: string, file: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(readFileSync(path.join(top, file), 'utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

interface Plan {
  file: string;
  /** The new text; undefined when the file already holds everything. */
  text?: string;
}

function apply(top: string, plan: Plan, options: InstallOptions, report: ClaudeInstallReport) {
  if (plan.text === undefined) return report.unchanged.push(plan.file);
  report.written.push(plan.file);
  if (options.dryRun) return;
  mkdirSync(path.dirname(path.join(top, plan.file)), { recursive: true });
  writeFileSync(path.join(top, plan.file), plan.text);
}

/** .mcp.json with our server merged in: other servers and keys stay; ours is kept as we write it. */
function mcpPlan(top: string): Plan {
  const file = '.mcp.json';
  const current = readJsonFile(top, file);
  const servers = current.json.mcpServers ?? {};
  if (!servers || typeof servers !== 'object' || Array.isArray(servers))
    throw usageError(
      `${file}: "mcpServers" is not an object; fix it by hand, then run init --claude again. Nothing was changed.`,
    );
  const merged = { ...current.json, mcpServers: { ...(servers as object), [MCP_SERVER]: MCP_ENTRY } };
  if (current.text !== undefined && JSON.stringify(merged) === JSON.stringify(current.json)) return { file };
  return {
    file,
    text: `${JSON.stringify(merged, null, current.text === undefined ? 2 : indentOf(current.text))}\n`,
  };
}

/** The `allowed-tools` of a command's frontmatter, one rule each (commas inside () kept). */
export function allowedTools(markdown: string): string[] {
  const front = /^---\n([\s\S]*?)\n---\n/.exec(markdown);
  if (!front) return [];
  const data = yaml.load(front[1]!) as Record<string, unknown> | undefined;
  const value = data?.['allowed-tools'];
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== 'string') return [];
  const rules: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of value) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      rules.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) rules.push(current.trim());
  return rules;
}

function writeOurs(
  top: string,
  file: string,
  text: string,
  mode: number,
  options: InstallOptions,
  report: ClaudeInstallReport,
) {
  const full = path.join(top, file);
  const shown = path.normalize(file);
  let current: string | undefined;
  try {
    current = lstatSync(full).isSymbolicLink() ? undefined : readFileSync(full, 'utf8');
  } catch {
    current = undefined;
  }
  const exists = existsSync(full) || isLink(full);
  if (exists && current === text) {
    if ((statSync(full).mode & 0o777) !== mode) {
      if (!options.dryRun) chmodSync(full, mode);
      report.written.push(shown);
    } else report.unchanged.push(shown);
    return;
  }
  if (exists && !options.force && !(current ?? '').includes(MARKER)) {
    report.kept.push(shown);
    return;
  }
  report.written.push(shown);
  if (options.dryRun) return;
  mkdirSync(path.dirname(full), { recursive: true });
  if (isLink(full)) rmSync(full);
  writeFileSync(full, text, { mode });
  chmodSync(full, mode);
}

function linkTo(
  top: string,
  link: string,
  target: string,
  options: InstallOptions,
  report: ClaudeInstallReport,
) {
  const full = path.join(top, link);
  const relative = path.relative(path.dirname(full), path.join(top, target));
  const shown = path.normalize(link);
  if (isLink(full)) {
    if (readlinkSync(full) === relative) return report.unchanged.push(shown);
    if (!options.force) return report.kept.push(shown);
  } else if (existsSync(full)) {
    const ours = readFileSync(full, 'utf8').includes(MARKER);
    if (!ours && !options.force) return report.kept.push(shown);
  }
  report.written.push(shown);
  if (options.dryRun) return;
  rmSync(full, { force: true });
  symlinkSync(relative, full);
}

/**
 * The new text of a settings file, or undefined when it already holds everything. Every
 * settings file is read before anything is written, so a file we cannot read stops init with
 * nothing changed.
 */
function settingsPlan(top: string, file: string, allow: string[]): Plan {
  const current = readJsonFile(top, file);
  const merged = mergeSettings(current.json, allow, path.normalize(file));
  if (current.text !== undefined && JSON.stringify(merged) === JSON.stringify(current.json))
    return { file: path.normalize(file) };
  return {
    file: path.normalize(file),
    text: `${JSON.stringify(merged, null, current.text === undefined ? 2 : indentOf(current.text))}\n`,
  };
}

/** A JSON object file of the user's: its text (undefined when absent) and value; unreadable is refused. */
function readJsonFile(top: string, file: string): { text?: string; json: Record<string, unknown> } {
  const shown = path.normalize(file);
  let text: string | undefined;
  try {
    text = readFileSync(path.join(top, file), 'utf8');
  } catch {
    return { json: {} };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw usageError(
      `${shown} is not valid JSON (${(error as Error).message}); fix it by hand, then run init --claude again. Nothing was changed.`,
    );
  }
  if (!json || typeof json !== 'object' || Array.isArray(json))
    throw usageError(
      `${shown} does not hold a JSON object; fix it by hand, then run init --claude again. Nothing was changed.`,
    );
  return { text, json: json as Record<string, unknown> };
}

function isLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
