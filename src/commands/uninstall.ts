import { existsSync } from 'node:fs';
import { isLive } from '../analysis/state.js';
import { uninstallClaude } from '../claude/install.js';
import { parse } from '../core/args.js';
import { now } from '../core/clock.js';
import type { CommandSpec } from '../core/command.js';
import { ConsortiumError } from '../core/errors.js';
import { loadConfig } from '../core/load-config.js';
import { print, printJson } from '../core/output.js';
import { researchersOf } from '../core/workspaces.js';
import { openRepo } from '../git/repo.js';
import { uninstallHooks, worktreesOf } from '../services/install.js';
import { listSessions } from '../store/sessions.js';

/** What `uninstall` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'uninstall',
  usage: ['uninstall [--json]'],
  summary: "remove the toolkit's hooks and settings",
  details: `Restores what init changed in the hooks setup (core.hooksPath, notes settings) as it was
before the first init, and removes the hook bodies. The coordination refs and notes are left alone.
Sessions still live in this clone are not ended: uninstall says how many, and that no hook
heartbeats them or checks their pushes any more.`,
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
  let staleAfterMs: number | undefined;
  try {
    const config = await loadConfig(repo.top);
    workspaces = [...researchersOf(config, repo.top).values()].map((r) => r.workspace);
    staleAfterMs = config.sessions.staleAfterMs;
  } catch (error) {
    // An unreadable configuration still lets the files at the top be cleaned.
    if (!(error instanceof ConsortiumError)) throw error;
  }
  const worktrees = worktreesOf(repo);
  const otherWorktrees = worktrees.filter((w) => w !== repo.top && existsSync(w));
  // Sessions of this clone that are still live: uninstalling does not end them.
  const nowMs = now().getTime();
  const live = listSessions(repo).sessions.filter(
    (s) =>
      worktrees.includes(s.worktree) &&
      (staleAfterMs === undefined ? s.state === 'active' : isLive(s, nowMs, staleAfterMs)),
  );
  for (const file of uninstallClaude(repo.top, workspaces, otherWorktrees))
    changes.push(
      `removed the toolkit's Claude Code ${file === '.mcp.json' ? 'MCP server from' : 'hooks from'} ${file}`,
    );
  const liveSessions = live.map((s) => ({ id: s.id, researcher: s.researcher, branch: s.branch }));
  if (values.json) printJson({ changes, nothingToChange: changes.length === 0, liveSessions });
  else if (changes.length === 0)
    print('git consortium uninstall: nothing to undo (the hooks are not installed).');
  else {
    print('git consortium uninstall:');
    for (const c of changes) print(`  - ${c}`);
    print('The coordination refs and notes are kept (refs/consortium/*, refs/notes/consortium).');
  }
  if (live.length && changes.length && !values.json) {
    const whose = [...new Set(live.map((s) => s.researcher))].join(', ');
    print('');
    print(
      `${live.length} session${live.length === 1 ? ' is' : 's are'} still live in this clone (${whose}): ${live.map((s) => s.id).join(', ')}.`,
    );
    print(
      'They are not ended: their records, leases and handoffs stay, here and on the remote, and the others',
    );
    print(
      'still see them until they end or go stale. But from now on no hook here heartbeats them, registers',
    );
    print(
      'their checkouts or checks their pushes. End each with git consortium end --session ID when its work is done.',
    );
  }
  return 0;
}
