import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allCommands } from '../../src/commands/registry.js';

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

test.run();
