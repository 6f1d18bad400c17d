import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Remedy } from '../../src/core/remedies.js';
import { withRemedies, wordRemedies } from '../../src/render/remedies.js';

/** One refusal's ways out, as each caller reads them. */
const LEASED: Remedy[] = [
  { kind: 'wait-for-expiry' },
  { kind: 'ask-to-release', researchers: ['yuki-tanaka'], pattern: 'protocol/**' },
  { kind: 'break-lease' },
];

test('a person at a terminal reads commands, breaking the lease included', () => {
  assert.is(
    wordRemedies(LEASED, { actor: 'person', via: 'cli' }),
    'Wait for it to expire, ask yuki-tanaka to release it (git consortium lease release protocol/** in their session), or break it with --force --reason TEXT (recorded for everyone).',
  );
});

test("an agent is never shown a person's decision, in the CLI or through MCP", () => {
  for (const via of ['cli', 'mcp'] as const) {
    const text = wordRemedies(LEASED, { actor: 'agent', via });
    assert.not.match(text, '--force', via);
    assert.not.match(text, 'break', via);
    assert.match(text, 'ask yuki-tanaka to release it', via);
  }
});

test('an MCP client is told the tool to use, not the command', () => {
  const text = wordRemedies(LEASED, { actor: 'agent', via: 'mcp' });
  assert.match(text, 'the lease_release tool with "protocol/**"');
  assert.not.match(text, 'git consortium');
});

test('facts stand alone when nothing is left to suggest', () => {
  assert.is(withRemedies('Held.', [{ kind: 'break-lease' }], { actor: 'agent', via: 'cli' }), 'Held.');
  assert.is(
    withRemedies('Held.', [{ kind: 'ask-person' }], { actor: 'agent', via: 'cli' }),
    'Held. Stop and ask a person.',
  );
});

test.run();
