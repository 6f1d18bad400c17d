import type { CommandSpec } from './core/command.js';

/**
 * How help reads: the general page and one command's, from the declarations the commands
 * make of themselves (src/commands/<name>.ts `command`). Help, every --help and the man page
 * (scripts/postbuild.mjs) are made from those, and a test checks usage against options.
 */
export const COMMON = wrap(
  'Common options, where a command shows them: --json prints one JSON document on stdout; ' +
    '-r, --researcher ID says who you are; --session ID (or its last six characters) names the ' +
    'session to act on; --quiet says only what went wrong; --color=auto|always|never. ' +
    'Exit codes: 0 success, 1 refused by the coordination state, 2 bad usage or input, ' +
    '3 environment problem (not a repository, git too old, remote unreachable).',
);

/** Text as lines of at most `width` columns, broken between words. */
export function wrap(text: string, width = 80): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

/** The environment the toolkit reads: the man page, docs/cli.md and help list it from here. */
export const ENVIRONMENT: readonly [string, string][] = [
  ['CONSORTIUM_RESEARCHER', 'who you are'],
  ['CONSORTIUM_SESSION', 'the session to act on'],
  [
    'CONSORTIUM=0, HUSKY=0',
    'the git hooks do nothing (under an agent, CONSORTIUM=0 does not turn the push gate off)',
  ],
  [
    'CONSORTIUM_OVERRIDE="reason"',
    'let a blocked push through; recorded as a note (refused under an agent unless policy.agentOverride allows)',
  ],
  [
    'CLAUDECODE, AI_AGENT',
    "set by Claude Code for the commands it runs: the gate then treats the push as an agent's",
  ],
  ['NO_COLOR', 'no colour, whatever --color says'],
  ['CONSORTIUM_COLOR', 'auto, always or never: what --color sets, for the hooks too'],
  ['CONSORTIUM_CLOCK', 'a fixed ISO 8601 time for "now" (tests and the demo)'],
  ['CONSORTIUM_HOST', "the host name recorded in sessions (default: the machine's)"],
  [
    'CONSORTIUM_NO_BACKGROUND=1',
    'no detached processes: a hook records and shares in the hook itself (tests, the demo)',
  ],
];

export function generalHelp(commands: readonly CommandSpec[]): string {
  const visible = commands.filter((c) => !c.hidden);
  const width = Math.max(...visible.map((c) => c.name.length));
  return [
    'git consortium: coordinate researchers and agent sessions on one git repository.',
    '',
    'usage: git consortium <command> [options]',
    '',
    'Commands:',
    ...visible.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    COMMON,
    '',
    "Run 'git consortium help <command>' for a command's options and examples.",
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
    'Common options and exit codes: git consortium help.',
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
    '',
    '### Environment',
    '',
    '| variable | meaning |',
    '|---|---|',
    ...ENVIRONMENT.map(([name, meaning]) => `| \`${name}\` | ${cell(prose(meaning))} |`),
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
