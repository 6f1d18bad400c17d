import { parse } from '../core/args.js';
import type { CommandSpec } from '../core/command.js';
import { print, printJson } from '../core/output.js';

/** What `version` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'version',
  usage: ['version [--json]'],
  summary: 'the version of git-consortium, of Node and of git',
  details:
    "Prints the toolkit's version (also: git consortium --version), and with --json the versions of Node and git it runs with.",
  examples: [
    { run: 'version', says: 'which git-consortium this is' },
    { run: 'version --json', says: 'the toolkit, Node and git versions, as JSON (for a bug report)' },
  ],
  options: { json: { type: 'boolean' } },
} as const satisfies CommandSpec;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, command.options);
  const { version } = await import('../version.js');
  if (!values.json) {
    print(`git-consortium ${version}`);
    return 0;
  }
  const { gitVersion } = await import('../git/repo.js');
  const git = gitVersion();
  printJson({ version, node: process.versions.node, git: git[0] ? git.join('.') : null });
  return 0;
}
