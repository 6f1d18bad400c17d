import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { consortium, json, must } from '../helpers/sandbox.js';

/**
 * The pre-push gate under an agent (SPEC section 7): CONSORTIUM_OVERRIDE from Claude Code's
 * environment is refused unless policy.agentOverride says otherwise, the agent is told to ask a
 * person and never shown the recipe, a person's approval lets one push through, and every
 * override records whether a person or an agent made it. Real `git push` to a bare remote.
 */
const { world, m, cleanup } = consortium(['elena', 'yuki']);
const { elena, yuki } = m;
test.after(cleanup);

const AGENT = { CLAUDECODE: '1', AI_AGENT: 'claude-code_2-1-332_agent' };
const ELENA_BRANCH = 'claude-elena-vasquez-20261125-090000';
const YUKI_BRANCH = 'claude-yuki-tanaka-20261125-090100';
const onRemote = () =>
  must(elena.git(['ls-remote', 'origin', `refs/heads/${YUKI_BRANCH}`])).stdout.split('\t')[0] ?? '';
let edits = 0;
/** Another commit of yuki's that meets elena's live protocol change, so the gate blocks it. */
function yukiChangesProtocol(): string {
  const file = path.join(yuki.dir, 'protocol/spec.md');
  writeFileSync(file, `${readFileSync(file, 'utf8')}yuki ${++edits}\n`);
  must(yuki.git(['commit', '-qam', `Protocol: latency budget ${edits}`]));
  return must(yuki.git(['rev-parse', 'HEAD'])).stdout.trim();
}
function policy(agentOverride: string) {
  const file = path.join(yuki.dir, 'consortium.config.yaml');
  const text = readFileSync(file, 'utf8').replace(/\npolicy:.*$/s, '');
  writeFileSync(file, `${text}\npolicy:\n  agentOverride: ${agentOverride}\n`);
}
/** The override notes on a commit, as the notes ref holds them. */
const overrides = (commit: string) =>
  (yuki.git(['notes', '--ref=consortium', 'show', commit]).stdout || '')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === 'override');

// Setup: a live protocol change of elena, and yuki changing the same file (it asserts nothing of its own: a failure here stops the file).
test.before(() => {
  for (const machine of [elena, yuki]) must(machine.gc(['init']));
  must(elena.git(['checkout', '-q', '-b', ELENA_BRANCH]));
  elena.commit('Protocol: stricter statistics', { 'protocol/spec.md': '# Protocol\n\nELENA\n' });
  must(elena.git(['push', '-q', '-u', 'origin', 'HEAD']));
  must(yuki.git(['checkout', '-q', '-b', YUKI_BRANCH]));
  // The config's policy is set per scenario below, in the worktree where the push runs.
  must(yuki.git(['update-index', '--assume-unchanged', 'consortium.config.yaml']));
});

test('under an agent the override is refused: the agent is told to ask a person, and shown no recipe', () => {
  const tip = yukiChangesProtocol();
  const r = yuki.git(['push', '-u', 'origin', 'HEAD'], {
    env: { ...AGENT, CONSORTIUM_OVERRIDE: 'trust me' },
  });
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, 'push blocked');
  assert.match(r.stderr, 'policy.agentOverride is block');
  assert.match(r.stderr, 'ask a person');
  assert.match(r.stderr, `My push of ${YUKI_BRANCH} is blocked by protocol on protocol/spec.md`);
  assert.not.match(r.stderr, 'CONSORTIUM_OVERRIDE', 'no recipe for getting past the gate');
  assert.is.not(onRemote(), tip);
});

test('an agent cannot turn the gate off, spell the remote another way, or push to a ref the gate skips', () => {
  const tip = must(yuki.git(['rev-parse', 'HEAD'])).stdout.trim();
  const pushes: [string, string[], NodeJS.ProcessEnv][] = [
    ['CONSORTIUM=0', ['push', 'origin', 'HEAD'], { CONSORTIUM: '0' }],
    ['CONSORTIUM_INTERNAL_PUSH=1', ['push', 'origin', 'HEAD'], { CONSORTIUM_INTERNAL_PUSH: '1' }],
    [
      'the remote as a file:// URL',
      ['push', `file://${world.remote}/`, `HEAD:refs/heads/${YUKI_BRANCH}`],
      {},
    ],
    ['a notes ref', ['push', 'origin', 'HEAD:refs/notes/elsewhere'], {}],
  ];
  for (const [what, args, env] of pushes) {
    const r = yuki.git(args, { env: { ...AGENT, ...env } });
    assert.is(r.code, 1, `${what}: ${r.stderr}`);
    assert.match(r.stderr, 'push blocked', what);
  }
  assert.is.not(onRemote(), tip);
  assert.is(must(yuki.git(['ls-remote', 'origin', 'refs/notes/elsewhere'])).stdout, '');
});

test("the gate fails closed for an agent: a check that cannot run stops an agent's push", () => {
  policy('sometimes');
  const agent = yuki.git(['push', 'origin', 'HEAD'], { env: AGENT });
  assert.is(agent.code, 1);
  assert.match(agent.stderr, 'so this push under an agent stops here');
  policy('block');
});

test("the same override from a person in their own terminal lands, recorded as a person's", () => {
  const tip = must(yuki.git(['rev-parse', 'HEAD'])).stdout.trim();
  const r = yuki.git(['push', '-u', 'origin', 'HEAD'], {
    env: { CONSORTIUM_OVERRIDE: 'agreed on the call' },
  });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, 'override recorded (by a person');
  assert.is(onRemote(), tip);
  const [note] = overrides(tip);
  assert.is(note.actor, 'person');
  assert.is(note.reason, 'agreed on the call');
  assert.is(note.agent, undefined);
});

test("approve is a person's act: refused under an agent, and without a terminal", () => {
  policy('ask');
  const underAgent = yuki.gc(['approve', '--reason', 'fine'], { env: AGENT });
  assert.is(underAgent.code, 1);
  assert.match(underAgent.stderr, 'Only a person can approve');
  const noTerminal = yuki.gc(['approve', '--reason', 'fine', '-r', 'yuki-tanaka']);
  assert.is(noTerminal.code, 1);
  assert.match(noTerminal.stderr, 'run it in your own terminal');
  const noReason = yuki.gc(['approve']);
  assert.is(noReason.code, 2);
});

test("under ask, the agent's blocked push names approve; a person's approval lets exactly one push through", () => {
  const tip = yukiChangesProtocol();
  const refused = yuki.git(['push', 'origin', 'HEAD'], { env: AGENT });
  assert.is(refused.code, 1);
  assert.match(refused.stderr, 'policy.agentOverride is ask');
  assert.match(refused.stderr, 'git consortium help approve');
  // A person at a terminal (script gives the command a pseudo-terminal) approves.
  const approved = spawnSync(
    'script',
    ['-qec', "git consortium approve -r yuki-tanaka --reason 'reviewed the diff with elena'", '/dev/null'],
    { cwd: yuki.dir, env: yuki.env(), input: 'yes\n', encoding: 'utf8' },
  );
  assert.is(approved.status, 0, approved.stdout + approved.stderr);
  assert.match(
    approved.stdout,
    'Approved by yuki-tanaka (known from the --researcher flag): the next blocked push of session',
  );
  const r = yuki.git(['push', 'origin', 'HEAD'], { env: AGENT });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, 'override recorded (by an agent, approved by yuki-tanaka');
  assert.is(onRemote(), tip);
  const [note] = overrides(tip);
  assert.is(note.actor, 'agent');
  assert.is(note.agent, AGENT.AI_AGENT);
  assert.is(note.approvedBy, 'yuki-tanaka');
  assert.is(note.reason, 'reviewed the diff with elena');
  // Used up: the next blocked push needs a new approval.
  yukiChangesProtocol();
  assert.is(yuki.git(['push', 'origin', 'HEAD'], { env: AGENT }).code, 1);
});

test('under allow, an agent overrides itself, and audit tells the agent from the person', () => {
  policy('allow');
  const tip = must(yuki.git(['rev-parse', 'HEAD'])).stdout.trim();
  const r = yuki.git(['push', 'origin', 'HEAD'], { env: { ...AGENT, CONSORTIUM_OVERRIDE: 'allowed here' } });
  assert.is(r.code, 0, r.stderr);
  assert.is(overrides(tip)[0]?.actor, 'agent');
  assert.is(overrides(tip)[0]?.landed, null, 'pending until a sync sees the push on the remote');
  must(yuki.gc(['sync']));
  const events = json(yuki, ['audit']).events.filter((e: any) => e.kind === 'override');
  assert.ok(
    events.every((e: any) => e.landed === true),
    JSON.stringify(events),
  );
  assert.equal(
    events.map((e: any) => e.action),
    [
      'push override by a person',
      `push override by an agent (${AGENT.AI_AGENT}), approved by yuki-tanaka`,
      `push override by an agent (${AGENT.AI_AGENT})`,
    ],
  );
});

test('policy.agentOverride takes block, ask or allow, and nothing else', () => {
  policy('sometimes');
  const r = yuki.gc(['status']);
  assert.is(r.code, 2);
  assert.match(r.stderr, 'policy.agentOverride: expected block, ask or allow, got "sometimes"');
  policy('block');
});

test('an override whose push the remote refuses is recorded as not landed, and told to nobody', () => {
  policy('block');
  // The remote refuses this one branch, whatever the gate said.
  const hook = path.join(world.remote, 'hooks', 'pre-receive');
  writeFileSync(
    hook,
    '#!/bin/sh\nwhile read old new ref; do [ "$ref" = refs/heads/refused ] && exit 1; done\nexit 0\n',
    { mode: 0o755 },
  );
  try {
    yukiChangesProtocol();
    const tip = must(yuki.git(['rev-parse', 'HEAD'])).stdout.trim();
    const r = yuki.git(['push', 'origin', 'HEAD:refs/heads/refused'], {
      env: { CONSORTIUM_OVERRIDE: 'will not land' },
    });
    assert.is.not(r.code, 0, 'the remote refused the push');
    assert.match(r.stderr, 'override recorded');
    assert.is(overrides(tip)[0]?.landed, null);
    // A sync a few minutes later settles it: not landed.
    must(yuki.gc(['sync'], { env: { CONSORTIUM_CLOCK: new Date(Date.now() + 5 * 60_000).toISOString() } }));
    const audit = json(yuki, ['audit']).events.find(
      (e: any) => e.kind === 'override' && e.what.includes('will not land'),
    );
    assert.is(audit?.landed, false);
    assert.match(audit.action, '(not landed: the remote refused the push)');
    // Elena, whose work it pushed over, hears nothing of a push that never landed.
    must(elena.gc(['sync']));
    assert.not.match(must(elena.gc(['orient', '-r', 'elena-vasquez'])).stdout, 'will not land');
  } finally {
    rmSync(hook, { force: true });
  }
});

test.run();
