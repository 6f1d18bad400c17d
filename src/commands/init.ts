import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { parse } from '../core/args.js';
import type { CommandSpec } from '../core/command.js';
import type { Config, Researcher } from '../core/config.js';
import { environmentError } from '../core/errors.js';
import { loadConfig } from '../core/load-config.js';
import { print, printJson } from '../core/output.js';
import { researchersOf } from '../core/workspaces.js';
import { openRepo, type Repo } from '../git/repo.js';
import { findLeftovers, installHooks, removeLeftovers, worktreesOf } from '../services/install.js';

/** What `init` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'init',
  usage: ['init [--claude] [--github] [--force] [--json]'],
  summary: 'set up this repository: configuration, git hooks, notes settings',
  details: `Writes consortium.config.yaml (from the workspace folders it finds, keeping an existing
configuration), installs the git hooks with husky in <git dir>/consortium/hooks (active in every
worktree of the repository; hooks it already had in .git/hooks or .husky/ keep running), sets
notes.rewriteRef so notes follow rebases and amends, and removes the old scripts' .claude-session-*
lock files and refs/claude/session-* refs. --claude adds the Claude Code files, --github the
GitHub Actions workflow; --force replaces files of the same name and reinstalls the hooks.
Running it twice changes nothing the second time. The hooks are off with CONSORTIUM=0 or HUSKY=0.`,
  examples: [
    { run: 'init', says: 'install the hooks in this clone (every clone runs it once)' },
    { run: 'init --claude', says: 'also install the Claude Code hooks, slash commands and MCP server' },
    {
      run: 'init --github --json',
      says: 'also write the GitHub Actions workflow, and say what changed as JSON',
    },
  ],
  options: {
    claude: { type: 'boolean' },
    github: { type: 'boolean' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
  },
} as const satisfies CommandSpec;

/**
 * `git consortium init`: configuration, hooks (with husky), notes settings, takeover from
 * the consortium's old scripts, and with --claude / --github the integration files. Each step
 * changes only what is not already as it should be, so a second run changes nothing.
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, command.options);
  const repo = openRepo();
  // An invalid configuration stops init before anything is written (exit 2, naming the key).
  const config = await loadConfig(repo.top);
  const changes: string[] = [];
  const notes: string[] = [];

  if (!config.file) {
    changes.push(writeConfig(repo, config));
    notes.push('commit consortium.config.yaml so that every clone reads the same configuration');
  }
  const effective = config.file ? config : await loadConfig(repo.top);
  const researchers = researchersOf(effective, repo.top);

  changes.push(...(await installHooks(repo, { force: values.force })));

  const leftovers = findLeftovers(
    repo,
    [...researchers.values()].map((r) => r.workspace),
  );
  if (leftovers.files.length || leftovers.refs.length) {
    removeLeftovers(repo, leftovers);
    for (const f of leftovers.files) changes.push(`removed the old scripts' lock file ${f}`);
    for (const r of leftovers.refs) changes.push(`removed the old scripts' ref ${r}`);
  }
  for (const f of leftovers.tracked)
    notes.push(`${f} is an old lock file that git tracks: remove it with git rm ${f} and commit`);

  if (values.claude) changes.push(...(await claude(repo, researchers, !!values.force, notes)));
  else changes.push(...(await claudeLocal(repo)));
  if (values.github) changes.push(...(await github(repo, effective, !!values.force, notes)));

  if (values.json) {
    printJson({ changes, nothingToChange: changes.length === 0, notes });
    return 0;
  }
  if (changes.length === 0) print('git consortium init: nothing to change.');
  else {
    print('git consortium init:');
    for (const c of changes) print(`  - ${c}`);
  }
  for (const n of notes) print(`note: ${n}`);
  return 0;
}

/** A first configuration, from what is there: the workspace folders become the researchers. */
function writeConfig(repo: Repo, defaults: Config): string {
  const file = path.join(repo.top, 'consortium.config.yaml');
  const found = [...researchersOf(defaults, repo.top).keys()];
  const researchers = found.length
    ? yaml.dump({ researchers: Object.fromEntries(found.map((id) => [id, {}])) }, { flowLevel: 2 })
    : '# researchers:            # absent: every folder matching `workspaces` is a researcher\n';
  const text = `# git-consortium configuration, written by git consortium init. Every key is optional.
workspaces: ${defaults.workspaces}
${researchers}# Files whose change affects every researcher (the pre-push gate protects them):
protocol: []
# What the pre-push gate does with each kind of conflict: block | warn | off.
# policy: { lease: block, protocol: block, merge: warn, foreign: warn, offline: warn }
`;
  if (existsSync(file)) throw environmentError(`${file} exists but could not be read as a configuration.`);
  writeFileSync(file, text);
  return `wrote consortium.config.yaml (${found.length ? `researchers from the workspace folders: ${found.join(', ')}` : 'no workspace folders found yet'})`;
}

/** --claude: the Claude Code files (src/claude/install.ts), loaded only when asked for. */
async function claude(
  repo: Repo,
  researchers: Map<string, Researcher>,
  force: boolean,
  notes: string[],
): Promise<string[]> {
  const { installClaude, installWorktreeSettings, LOCAL_SETTINGS } = await import('../claude/install.js');
  const report = installClaude(repo.top, researchers.values(), { force });
  for (const k of report.kept) notes.push(`${k} is not the toolkit's: left alone (--force replaces it)`);
  for (const s of report.skipped) notes.push(`${s} has no workspace folder yet: no Claude Code files for it`);
  const written = report.written.map((f) => `wrote ${f}`);
  // The other worktrees of the repository get their own (untracked) local settings too.
  for (const worktree of worktreesOf(repo))
    if (worktree !== repo.top && existsSync(worktree) && installWorktreeSettings(worktree))
      written.push(`wrote ${path.join(worktree, LOCAL_SETTINGS)}`);
  return [...written, ...(await localClaudeSettings(repo))];
}

/**
 * A clone of a repository that uses the Claude Code integration (its committed settings run our
 * hooks) gets the clone's own part of it: the untracked settings.local.json that makes the
 * hooks active in every folder.
 */
async function claudeLocal(repo: Repo): Promise<string[]> {
  const { fileRunsOurHooks } = await import('../claude/settings.js');
  if (!fileRunsOurHooks(path.join(repo.top, '.claude', 'settings.json'))) return [];
  return localClaudeSettings(repo);
}

/** The clone's own part of the Claude Code setup: local settings with our hooks, kept out of git. */
async function localClaudeSettings(repo: Repo): Promise<string[]> {
  const { installWorktreeSettings, LOCAL_SETTINGS } = await import('../claude/install.js');
  const written = installWorktreeSettings(repo.top) ? [`wrote ${LOCAL_SETTINGS}`] : [];
  if (excludeLocally(repo, '/.claude/settings.local.json'))
    written.push('added .claude/settings.local.json to .git/info/exclude');
  return written;
}

/** A pattern in <git common dir>/info/exclude (ignored in this clone's worktrees); true when added. */
function excludeLocally(repo: Repo, pattern: string): boolean {
  const file = path.join(repo.commonDir, 'info', 'exclude');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (current.split('\n').includes(pattern)) return false;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${current}${current && !current.endsWith('\n') ? '\n' : ''}${pattern}\n`);
  return true;
}

/** --github: the GitHub Actions workflow (src/ci/install.ts), loaded only when asked for. */
async function github(repo: Repo, config: Config, force: boolean, notes: string[]): Promise<string[]> {
  const { installGithub } = await import('../ci/install.js');
  const report = installGithub(repo.top, { force, branchPrefix: config.sessions.branchPrefix });
  for (const k of report.kept) notes.push(`${k} is not the toolkit's: left alone (--force replaces it)`);
  return report.written.map((f) => `wrote ${f}`);
}
