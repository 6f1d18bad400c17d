import { existsSync } from 'node:fs';
import { uninstallClaude } from '../claude/install.js';
import { parse } from '../core/args.js';
import type { CommandSpec } from '../core/command.js';
import { ConsortiumError } from '../core/errors.js';
import { loadConfig } from '../core/load-config.js';
import { print, printJson } from '../core/output.js';
import { researchersOf } from '../core/workspaces.js';
import { openRepo } from '../git/repo.js';
import { uninstallHooks, worktreesOf } from '../services/install.js';

/** What `uninstall` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'uninstall',
  usage: ['uninstall [--json]'],
  summary: "remove the toolkit's hooks and settings",
  details: `Restores what init changed in the hooks setup (core.hooksPath, notes settings) as it was
before the first init, and removes the hook bodies. The coordination refs and notes are left alone.`,
  examples: [
    { run: 'uninstall', says: 'remove the hooks and put back what init changed; refs and notes stay' },
    { run: 'uninstall --json', says: 'the same, saying what was removed as JSON' },
  ],
  options: {
    json: { type: 'boolean' },
  },
} as const satisfies CommandSpec;

/**
 * Puts back the hooks setup init found, and takes our Claude Code hooks and MCP server out of
 * the files init --claude merged them into; the coordination refs and notes are left alone.
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, command.options);
  const repo = openRepo();
  const changes = uninstallHooks(repo);
  let workspaces: string[] = [];
  try {
    workspaces = [...researchersOf(await loadConfig(repo.top), repo.top).values()].map((r) => r.workspace);
  } catch (error) {
    // An unreadable configuration still lets the files at the top be cleaned.
    if (!(error instanceof ConsortiumError)) throw error;
  }
  const otherWorktrees = worktreesOf(repo).filter((w) => w !== repo.top && existsSync(w));
  for (const file of uninstallClaude(repo.top, workspaces, otherWorktrees))
    changes.push(
      `removed the toolkit's Claude Code ${file === '.mcp.json' ? 'MCP server from' : 'hooks from'} ${file}`,
    );
  if (values.json) printJson({ changes, nothingToChange: changes.length === 0 });
  else if (changes.length === 0)
    print('git consortium uninstall: nothing to undo (the hooks are not installed).');
  else {
    print('git consortium uninstall:');
    for (const c of changes) print(`  - ${c}`);
    print('The coordination refs and notes are kept (refs/consortium/*, refs/notes/consortium).');
  }
  return 0;
}
