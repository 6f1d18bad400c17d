import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import yaml from 'js-yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseEvent, toolFile } from '../../src/claude/event.js';
import { allowedTools, COMMANDS, TEMPLATES } from '../../src/claude/install.js';
import { HOOKS, hookCommand, indentOf, mergeSettings } from '../../src/claude/settings.js';
import { ConsortiumError } from '../../src/core/errors.js';

// The project's own copy of SchemaStore's schema, so that the test works in any clone.
const schema = JSON.parse(
  readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'claude-code-settings.schema.json'), 'utf8'),
);
const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
const valid = (settings: unknown) => {
  const ok = validate(settings);
  if (!ok) throw new Error(JSON.stringify(validate.errors, null, 2));
  return ok;
};

const ALLOW = ['Bash(git consortium orient)', 'Bash(git consortium mcp sync)'];
const ourCommands = (settings: any, event: string) =>
  (settings.hooks[event] as any[]).flatMap((g) => g.hooks).filter((h: any) => /claude-hook/.test(h.command));

test('merged into nothing: the five hooks and the allow rules, valid for Claude Code', () => {
  const merged = mergeSettings({}, ALLOW, 'settings.json') as any;
  assert.ok(valid(merged));
  for (const spec of HOOKS) {
    const groups = merged.hooks[spec.event];
    assert.is(groups.length, 1, spec.event);
    assert.is(groups[0].matcher, spec.matcher);
    assert.equal(groups[0].hooks, [
      { type: 'command', command: hookCommand(spec.event), timeout: spec.timeout },
    ]);
  }
  assert.equal(Object.keys(merged.hooks), [
    'SessionStart',
    'PreToolUse',
    'PostToolUse',
    'PreCompact',
    'SessionEnd',
  ]);
  assert.is(merged.hooks.PreToolUse[0].matcher, 'Edit|Write|MultiEdit|NotebookEdit|Bash');
  assert.equal(merged.permissions.allow, ALLOW);
  // The validator does reject what Claude Code would not read.
  assert.not.ok(validate({ hooks: { PreToolUse: [{ hooks: [{ type: 'command' }] }] } }));
  assert.not.ok(validate({ permissions: { allow: ['git consortium orient'] } }));
});

test('existing permissions, hooks and keys stay; merging twice changes nothing', () => {
  const existing = {
    model: 'opus',
    env: { FOO: 'bar' },
    permissions: {
      allow: ['Bash(./claude-consortium-session status)', 'Bash(git consortium orient)'],
      deny: ['Read(./.env)'],
      defaultMode: 'default',
    },
    hooks: {
      PostToolUse: [
        { matcher: 'Edit|Write', hooks: [{ type: 'command', command: 'prettier --write', timeout: 5 }] },
      ],
      SessionStart: [{ hooks: [{ type: 'command', command: 'echo hello' }] }],
      Stop: [{ hooks: [{ type: 'command', command: 'make check' }] }],
    },
  };
  assert.ok(valid(existing));
  const once = mergeSettings(existing, ALLOW, 'settings.json') as any;
  assert.ok(valid(once));
  assert.is(once.model, 'opus');
  assert.equal(once.env, { FOO: 'bar' });
  assert.equal(once.permissions.deny, ['Read(./.env)']);
  assert.is(once.permissions.defaultMode, 'default');
  assert.equal(once.permissions.allow, [
    'Bash(./claude-consortium-session status)',
    'Bash(git consortium orient)',
    'Bash(git consortium mcp sync)',
  ]);
  assert.equal(once.hooks.Stop, existing.hooks.Stop);
  assert.equal(
    once.hooks.PostToolUse[0],
    existing.hooks.PostToolUse[0],
    "the user's own hook comes first, untouched",
  );
  assert.equal(once.hooks.SessionStart[0], existing.hooks.SessionStart[0]);
  assert.is(ourCommands(once, 'PostToolUse').length, 1);
  const twice = mergeSettings(once, ALLOW, 'settings.json');
  assert.is(JSON.stringify(twice), JSON.stringify(once));
  assert.equal(existing.hooks.SessionStart.length, 1, 'the input object is not modified');
});

test('an older or hand-moved hook of ours is replaced, never doubled; others in its group stay', () => {
  const existing = {
    hooks: {
      PreToolUse: [
        {
          matcher: 'Edit|Write',
          hooks: [
            { type: 'command', command: 'git-consortium claude-hook PreToolUse' },
            { type: 'command', command: './check-style.sh' },
          ],
        },
      ],
      SessionEnd: [
        { hooks: [{ type: 'command', command: 'git consortium claude-hook SessionEnd', timeout: 99 }] },
      ],
    },
  };
  const merged = mergeSettings(existing, [], 'settings.json') as any;
  assert.equal(merged.hooks.PreToolUse[0], {
    matcher: 'Edit|Write',
    hooks: [{ type: 'command', command: './check-style.sh' }],
  });
  assert.is(ourCommands(merged, 'PreToolUse').length, 1);
  assert.is(ourCommands(merged, 'SessionEnd').length, 1);
  assert.is(ourCommands(merged, 'SessionEnd')[0].timeout, 5);
  assert.is(merged.hooks.SessionEnd.length, 1, 'a group left empty is dropped');
});

test('settings we cannot read as Claude Code settings are refused (exit 2), not overwritten', () => {
  for (const bad of [
    { hooks: [] },
    { hooks: { PreToolUse: {} } },
    { permissions: [] },
    { permissions: { allow: 'x' } },
  ]) {
    try {
      mergeSettings(bad, ALLOW, '.claude/settings.json');
      assert.unreachable(JSON.stringify(bad));
    } catch (error) {
      assert.instance(error, ConsortiumError);
      assert.is((error as ConsortiumError).exitCode, 2);
      assert.match((error as Error).message, '.claude/settings.json');
    }
  }
});

test('the indentation of an existing file is kept', () => {
  assert.is(indentOf('{\n    "a": 1\n}\n'), '    ');
  assert.is(indentOf('{\n\t"a": 1\n}\n'), '\t');
  assert.is(indentOf('{}'), '  ');
});

const FRONT = /^---\n([\s\S]*?)\n---\n/;

test('each command template: YAML frontmatter, a description, and allowed-tools covering exactly its ! calls', () => {
  for (const name of COMMANDS) {
    const text = readFileSync(path.join(TEMPLATES, 'commands', name), 'utf8');
    const front = FRONT.exec(text);
    assert.ok(front, `${name} starts with frontmatter`);
    const data = yaml.load(front![1]!) as Record<string, unknown>;
    assert.type(data.description, 'string', `${name} has a description`);
    assert.ok((data.description as string).length > 20);
    if ('argument-hint' in data) assert.type(data['argument-hint'], 'string');
    const rules = allowedTools(text);
    assert.ok(rules.length > 0, `${name} pre-approves its calls`);
    for (const rule of rules)
      assert.match(rule, /^Bash\(git consortium [a-z]/, `${name}: ${rule} is a git consortium call`);
    const calls = [...text.matchAll(/!`([^`]+)`/g)].map((m) => m[1]!);
    assert.ok(calls.length > 0, `${name} runs the toolkit with the ! prefix`);
    for (const call of calls) {
      assert.match(call, /^git consortium /);
      assert.ok(
        rules.some((r) => allows(r, call)),
        `${name}: the call ${call} is pre-approved by ${rules.join(', ')}`,
      );
    }
  }
});

test('only the person ends a session: consortium-compact is not model-invocable; no marker reaches the model', () => {
  for (const name of COMMANDS) {
    const text = readFileSync(path.join(TEMPLATES, 'commands', name), 'utf8');
    const data = yaml.load(FRONT.exec(text)![1]!) as Record<string, unknown>;
    assert.is(data['disable-model-invocation'] === true, name === 'consortium-compact.md', name);
    assert.not.match(
      text.replace(FRONT, ''),
      'Written by',
      `${name}: the body Claude Code sends has no marker`,
    );
  }
});

test('the commands run what the issue names: handoff before compaction, mcp sync, orient', () => {
  const body = (name: string) => readFileSync(path.join(TEMPLATES, 'commands', name), 'utf8');
  assert.match(body('consortium-compact.md'), 'git consortium compact --summary-file');
  assert.match(body('mcp-resilient-sync.md'), '!`git consortium mcp sync`');
  assert.match(body('claude-orient-consortium.md'), '!`git consortium orient`');
});

/** Claude Code's Bash rule: an exact command, or a prefix before a final ` *`. */
function allows(rule: string, command: string): boolean {
  const inner = /^Bash\((.*)\)$/.exec(rule)?.[1];
  if (inner === undefined) return false;
  if (inner.endsWith(' *')) return command.startsWith(inner.slice(0, -1));
  return command === inner;
}

test("the project's own .claude/ uses the templates and carries our hooks, up to date", () => {
  const root = path.join(import.meta.dirname, '..', '..');
  for (const name of COMMANDS)
    assert.is(
      readFileSync(path.join(root, '.claude', 'commands', name), 'utf8'),
      readFileSync(path.join(TEMPLATES, 'commands', name), 'utf8'),
      `.claude/commands/${name} is the template`,
    );
  const own = JSON.parse(readFileSync(path.join(root, '.claude', 'settings.json'), 'utf8'));
  assert.ok(valid(own));
  const allow = [
    ...new Set(
      COMMANDS.flatMap((c) => allowedTools(readFileSync(path.join(TEMPLATES, 'commands', c), 'utf8'))),
    ),
  ];
  assert.equal(mergeSettings(own, allow, '.claude/settings.json'), own, 'merging again would change nothing');
});

test('event JSON: valid, truncated, wrong event, unusable ids', () => {
  const event = parseEvent(
    JSON.stringify({
      session_id: '7b1f6a2e-1c1d-4a5b-9c1e-2f3a4b5c6d7e',
      transcript_path: '/home/u/.claude/projects/x/7b1f.jsonl',
      cwd: '/repo/consortium/elena',
      hook_event_name: 'PreToolUse',
      tool_name: 'Edit',
      tool_input: { file_path: '/repo/protocol/spec.md', old_string: 'a', new_string: 'b' },
    }),
    'PreToolUse',
  );
  assert.type(event, 'object');
  assert.is(toolFile(event as Exclude<typeof event, string>), '/repo/protocol/spec.md');
  const notebook = parseEvent(
    JSON.stringify({
      session_id: 's1',
      cwd: '/r',
      tool_name: 'NotebookEdit',
      tool_input: { notebook_path: 'a.ipynb' },
    }),
    'PreToolUse',
  );
  assert.is(
    toolFile(notebook as Exclude<typeof notebook, string>),
    '/r/a.ipynb',
    'a relative path is read from cwd',
  );
  assert.match(parseEvent('{"session_id": "abc", "cwd": "/r', 'SessionStart') as string, 'not valid JSON');
  assert.match(parseEvent('', 'SessionEnd') as string, 'got nothing');
  assert.match(parseEvent('[1]', 'SessionEnd') as string, 'JSON object');
  assert.match(
    parseEvent('{"session_id": "a", "cwd": "/r", "hook_event_name": "Stop"}', 'SessionEnd') as string,
    'this hook handles SessionEnd',
  );
  assert.match(parseEvent('{"session_id": "a b;rm", "cwd": "/r"}', 'PreCompact') as string, 'session_id');
  assert.match(parseEvent('{"session_id": "a", "cwd": "relative"}', 'PreCompact') as string, 'cwd');
});

test.run();
