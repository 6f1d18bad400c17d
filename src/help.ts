import type { CommandSpec } from './core/command.js';

/**
 * How help reads: the general page and one command's, from the declarations the commands
 * make of themselves (src/commands/<name>.ts `command`). Help, every --help and the man page
 * (scripts/postbuild.mjs) are made from those, and a test checks usage against options.
 */
export const COMMON = `Common options, where a command shows them: --json prints one JSON document on stdout;
-r, --researcher ID says who you are; --session ID names the session to act on. Exit codes: 0 success, 1 refused by the coordination
state, 2 bad usage or input, 3 environment problem (not a repository, git too old, remote unreachable).`;

export function generalHelp(commands: readonly CommandSpec[]): string {
  const visible = commands.filter((c) => !c.hidden);
  const width = Math.max(...visible.map((c) => c.name.length));
  return [
    'git consortium: coordinate researchers and AI coding-agent sessions on one git repository.',
    '',
    'usage: git consortium <command> [options]',
    '',
    'Commands:',
    ...visible.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    COMMON,
    '',
    "Run 'git consortium help <command>' for a command's options.",
  ].join('\n');
}

export function commandHelp(help: CommandSpec): string {
  return [
    `usage: ${help.usage.map((u, i) => (i ? `       git consortium ${u}` : `git consortium ${u}`)).join('\n')}`,
    '',
    help.summary,
    '',
    help.details,
    '',
    COMMON,
  ].join('\n');
}
