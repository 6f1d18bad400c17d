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
    'Examples:',
    ...help.examples.flatMap((e) => [`  git consortium ${e.run}`, `      ${e.says}`]),
    '',
    COMMON,
  ].join('\n');
}

export const REFERENCE_START =
  '<!-- commands: made from src/commands/*.ts by `npm run docs`; edit those, not this -->';
export const REFERENCE_END = '<!-- end of commands -->';

/** The command reference of docs/cli.md, from the same declarations as help. */
export function cliReference(commands: readonly CommandSpec[]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  // Details are prose with file names in them: <git dir> and globs are not markup.
  const prose = (text: string) => text.replace(/\n/g, ' ').replace(/([\\<*_`])/g, '\\$1');
  const visible = commands.filter((c) => !c.hidden);
  return [
    REFERENCE_START,
    '',
    '| command | what it does |',
    '|---|---|',
    ...visible.map((c) => `| [\`${c.name}\`](#${c.name}) | ${cell(prose(c.summary))} |`),
    ...visible.flatMap((c) => [
      '',
      `### ${c.name}`,
      '',
      '```',
      ...c.usage.map((u) => `git consortium ${u}`),
      '```',
      '',
      prose(c.details),
      '',
      '| example | what it does |',
      '|---|---|',
      ...c.examples.map((e) => `| \`git consortium ${cell(e.run)}\` | ${cell(prose(e.says))} |`),
    ]),
    '',
    REFERENCE_END,
  ].join('\n');
}
