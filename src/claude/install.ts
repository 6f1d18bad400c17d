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
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import type { Researcher } from '../core/config.js';
import { usageError } from '../core/errors.js';
import { indentOf, mergeSettings } from './settings.js';

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
export const TEMPLATES = fileURLToPath(new URL('../../templates/claude/', import.meta.url));
export const COMMANDS = ['consortium-compact.md', 'mcp-resilient-sync.md', 'claude-orient-consortium.md'];
export const SCRIPTS = ['claude-consortium-session', 'claude-orient-consortium'];
/** Every file we write carries this line, so a later init knows it may update it. */
export const MARKER = 'Written by git consortium init --claude';

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
  const settings = places.map((place) =>
    settingsPlan(top, path.join(place, '.claude', 'settings.json'), allow),
  );
  for (const place of places) {
    for (const c of commands)
      writeOurs(top, path.join(place, '.claude', 'commands', c.name), c.text, 0o644, options, report);
    const plan = settings.shift()!;
    if (plan.text === undefined) report.unchanged.push(plan.file);
    else {
      report.written.push(plan.file);
      if (!options.dryRun) {
        mkdirSync(path.dirname(path.join(top, plan.file)), { recursive: true });
        writeFileSync(path.join(top, plan.file), plan.text);
      }
    }
    for (const script of SCRIPTS) {
      const text = readFileSync(path.join(TEMPLATES, script), 'utf8');
      if (place === '.') writeOurs(top, script, text, 0o755, options, report);
      else linkTo(top, path.join(place, script), script, options, report);
    }
  }
  return report;
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
function settingsPlan(top: string, file: string, allow: string[]): { file: string; text?: string } {
  const full = path.join(top, file);
  const shown = path.normalize(file);
  let text: string | undefined;
  try {
    text = readFileSync(full, 'utf8');
  } catch {
    text = undefined;
  }
  let current: Record<string, unknown> = {};
  if (text !== undefined) {
    try {
      current = JSON.parse(text);
    } catch (error) {
      throw usageError(
        `${shown} is not valid JSON (${(error as Error).message}); fix it by hand, then run init --claude again. Nothing was changed.`,
      );
    }
    if (!current || typeof current !== 'object' || Array.isArray(current))
      throw usageError(
        `${shown} does not hold a JSON object; fix it by hand, then run init --claude again. Nothing was changed.`,
      );
  }
  const merged = mergeSettings(current, allow, shown);
  if (text !== undefined && JSON.stringify(merged) === JSON.stringify(current)) return { file: shown };
  return { file: shown, text: `${JSON.stringify(merged, null, text === undefined ? 2 : indentOf(text))}\n` };
}

function isLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
