import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allCommands } from '../../src/commands/registry.js';
import { cliReference, REFERENCE_END, REFERENCE_START } from '../../src/help.js';

/**
 * Every command declares itself once (src/commands/<name>.ts `command`), and its usage lines
 * and its options must say the same: an option the parser takes is in the usage, and a flag
 * the usage shows is one the parser takes.
 */
const commands = await allCommands();

test('every command has a name, usage, summary and details', () => {
  assert.ok(commands.length >= 25);
  for (const c of commands) {
    assert.ok(c.usage.length > 0 && c.usage.every((u) => u.startsWith(c.name)), c.name);
    assert.ok(c.summary.length > 10, c.name);
    assert.ok(c.details.length > 10, c.name);
  }
  assert.equal(new Set(commands.map((c) => c.name)).size, commands.length, 'names are unique');
});

test('usage and options agree, both ways', () => {
  const wrong: string[] = [];
  for (const c of commands) {
    const usage = c.usage.join(' ');
    const shown = new Set([...usage.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map((m) => m[1]!));
    for (const [name, spec] of Object.entries(c.options)) {
      const short = spec.short ? new RegExp(`(?<![\\w-])-${spec.short}\\b`).test(usage) : false;
      if (!shown.has(name) && !short) wrong.push(`${c.name}: --${name} is taken but not in its usage`);
    }
    for (const flag of shown)
      if (!(flag in c.options) && flag !== 'help')
        wrong.push(`${c.name}: --${flag} is in its usage but not taken`);
  }
  assert.equal(wrong, []);
});

/** A command line as a shell would split it (quotes only): what an example runs. */
const words = (line: string) => [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);

test('every visible command has two or three examples that its own parser takes', () => {
  const wrong: string[] = [];
  for (const c of commands.filter((c) => !c.hidden)) {
    if (c.examples.length < 2 || c.examples.length > 3)
      wrong.push(`${c.name}: ${c.examples.length} examples`);
    for (const e of c.examples) {
      const [name, ...args] = words(e.run);
      if (name !== c.name) wrong.push(`${c.name}: example ${e.run} runs ${name}`);
      if (c.name === 'hook' || c.name === 'claude-hook') continue; // git's and Claude Code's arguments
      try {
        parseArgs({ args, options: c.options, allowPositionals: true, strict: true });
      } catch (error) {
        wrong.push(`${c.name}: ${e.run}: ${(error as Error).message.split('\n')[0]}`);
      }
      if (!e.says || e.says.length > 100) wrong.push(`${c.name}: ${e.run} says too little or too much`);
    }
  }
  assert.equal(wrong, []);
});

test('the command reference of docs/cli.md is the one the declarations make (npm run docs)', () => {
  const doc = readFileSync(path.join(import.meta.dirname, '..', '..', 'docs', 'cli.md'), 'utf8');
  const start = doc.indexOf(REFERENCE_START);
  const end = doc.indexOf(REFERENCE_END);
  assert.ok(start >= 0 && end > start, 'docs/cli.md holds the generated reference');
  assert.fixture(doc.slice(start, end + REFERENCE_END.length), cliReference(commands));
});

test.run();
