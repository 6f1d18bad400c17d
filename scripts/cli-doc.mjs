// `npm run docs`: writes the command reference of docs/cli.md from the commands' own
// declarations (the same source as help and the man page). test/unit/grammar.test.ts fails
// when the committed file and the declarations differ.
import { readFileSync, writeFileSync } from 'node:fs';

const { cliReference, REFERENCE_END, REFERENCE_START } = await import('../dist/help.js');
const commands = await (await import('../dist/commands/registry.js')).allCommands();
const file = new URL('../docs/cli.md', import.meta.url);
const text = readFileSync(file, 'utf8');
const start = text.indexOf(REFERENCE_START);
const end = text.indexOf(REFERENCE_END);
const reference = cliReference(commands);
const next =
  start >= 0 && end > start
    ? text.slice(0, start) + reference + text.slice(end + REFERENCE_END.length)
    : `${text.trimEnd()}\n\n## Commands\n\n${reference}\n`;
writeFileSync(file, next);
