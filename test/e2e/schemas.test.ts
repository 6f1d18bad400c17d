import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import yaml from 'js-yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { consortium, json, must, SAMPLE_CONFIG } from '../helpers/sandbox.js';

/**
 * The package publishes JSON schemas of its --json outputs and of the configuration
 * (schemas/). Real outputs, from a consortium with live sessions, a lease, a protocol conflict
 * and a gate unlocked, are checked against them, so a change of shape cannot go unnoticed.
 */
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const ajv = new Ajv({ strict: false, allErrors: true });
const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
/** A schema of the package, compiled once. */
const compiledSchema = (name: string) => {
  if (!compiled.has(name))
    compiled.set(
      name,
      ajv.compile(JSON.parse(readFileSync(path.join(ROOT, 'schemas', `${name}.schema.json`), 'utf8'))),
    );
  return compiled.get(name)!;
};
const schema = (name: string) => (value: unknown) => {
  const validate = compiledSchema(name);
  assert.ok(
    validate(value),
    `${name}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 400)}`,
  );
};

const { m, cleanup } = consortium(['elena', 'yuki']);
const { elena, yuki } = m;
test.after(cleanup);

// Setup: two live sessions that change the same protocol file, a lease, a gate unlocked (it asserts nothing of its own: a failure here stops the file).
test.before(() => {
  for (const machine of [elena, yuki]) must(machine.gc(['init']));
  must(elena.gc(['start', '-r', 'elena-vasquez', '--intent', 'statistics']));
  elena.commit('Protocol: stricter statistics', { 'protocol/spec.md': '# Protocol\n\nELENA\n' });
  must(elena.git(['push', '-q', '-u', 'origin', 'HEAD']));
  must(elena.gc(['lease', 'acquire', 'TCP_SPECIFICATION.md']));
  must(elena.gc(['gates', 'unlock', 'G1', '-r', 'elena-vasquez', '--note', 'effect sizes done']));
  must(yuki.gc(['start', '-r', 'yuki-tanaka', '--intent', 'latency']));
  yuki.commit('Protocol: latency budget', { 'protocol/spec.md': '# Protocol\n\nYUKI\n' });
  must(yuki.gc(['sync']));
});

test('start, status, orient, lease list, gates and check print what their schemas say', () => {
  schema('session')(
    json(elena, ['start', '-r', 'elena-vasquez', '--worktree', path.join(elena.world.root, 'wt')]),
  );
  const status = json(yuki, ['status', '--all']);
  schema('status')(status);
  assert.ok(
    status.sessions.length >= 2 && status.leases.length === 1,
    `the data under test is there: ${status.sessions.length} sessions, ${status.leases.length} leases`,
  );
  schema('orient')(json(yuki, ['orient', '-r', 'yuki-tanaka']));
  schema('lease-list')(json(yuki, ['lease', 'list']));
  schema('gates')(json(yuki, ['gates']));
  const check = yuki.gc(['check', '--json']);
  assert.is(check.code, 1, 'the protocol conflict blocks');
  schema('check')(JSON.parse(check.stdout));
  assert.ok(JSON.parse(check.stdout).conflicts.some((c: any) => c.kind === 'protocol'));
});

test('the configuration schema accepts what the toolkit accepts, and refuses an unknown key', () => {
  const config = schema('config');
  config(yaml.load(SAMPLE_CONFIG));
  config(
    yaml.load(
      readFileSync(path.join(ROOT, 'test', 'fixtures', 'tcp-consortium', 'consortium.config.yaml'), 'utf8'),
    ),
  );
  config({ policy: { agentOverride: 'ask', lease: 'warn' }, sessions: { staleAfter: '45m' } });
  const strict = compiledSchema('config');
  for (const wrong of [
    { polcy: {} },
    { policy: { agentOverride: 'sometimes' } },
    { sessions: { staleAfter: 'soon' } },
  ]) {
    assert.not.ok(strict(wrong), JSON.stringify(wrong));
    elena.write('consortium.config.yaml', yaml.dump(wrong));
    assert.is(elena.gc(['status']).code, 2, `the toolkit refuses ${JSON.stringify(wrong)} too`);
  }
  must(elena.git(['checkout', '-q', '--', 'consortium.config.yaml']));
});

test.run();
