import type { CommandSpec } from '../core/command.js';

/** `help [command]`: cli.ts prints it (help needs every command's declaration, which it loads). */
export const command = {
  name: 'help',
  usage: ['help [command]'],
  summary: 'show help for git consortium or one command',
  details: `git consortium --help opens the man page; git consortium help works without it.`,
  examples: [
    { run: 'help lease', says: "one command's usage, options and examples" },
    { run: 'help', says: 'every command' },
  ],
  options: {},
} as const satisfies CommandSpec;

export async function run(): Promise<number> {
  return 0;
}
