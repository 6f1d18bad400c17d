import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { researcherOfBranch } from '../../src/core/branches.js';
import { resolveConfig } from '../../src/core/config.js';
import { parseDuration } from '../../src/core/duration.js';
import { ConsortiumError } from '../../src/core/errors.js';
import { researcherIdProblem } from '../../src/core/ids.js';
import { HOSTILE_NAMES } from '../helpers/contract.js';

const FILE = 'consortium.config.yaml';

function rejects(raw: unknown, pattern: RegExp) {
  try {
    resolveConfig(raw, FILE);
  } catch (error) {
    assert.instance(error, ConsortiumError);
    assert.is((error as ConsortiumError).exitCode, 2);
    assert.match((error as Error).message, FILE);
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected ${JSON.stringify(raw)} to be refused`);
}

test('no configuration gives the documented defaults', () => {
  const c = resolveConfig(undefined, undefined);
  assert.is(c.workspaces, 'consortium/*');
  assert.is(c.researchersListed, false);
  assert.equal(c.protocol, []);
  assert.is(c.sessions.branchPrefix, 'claude-');
  assert.is(c.sessions.staleAfterMs, 30 * 60_000);
  assert.is(c.sessions.leaseTtlMs, 2 * 3_600_000);
  assert.is(c.sessions.archiveAfterMs, 7 * 86_400_000);
  assert.equal(c.policy, {
    lease: 'block',
    protocol: 'block',
    merge: 'warn',
    foreign: 'warn',
    offline: 'warn',
    lines: 'warn',
    agentOverride: 'block',
  });
  // The server's gate decides as the clients' policy does unless server.policy says otherwise.
  assert.equal(c.server, {
    policy: { lease: 'block', protocol: 'block', merge: 'warn', foreign: 'warn' },
    identity: 'none',
    forceUnlock: 'refuse',
    onError: 'refuse',
  });
  const stricter = resolveConfig({ policy: { merge: 'off' }, server: { policy: { merge: 'block' } } }, FILE);
  assert.is(stricter.policy.merge, 'off');
  assert.is(stricter.server.policy.merge, 'block');
  assert.is(resolveConfig({ policy: { foreign: 'off' } }, FILE).server.policy.foreign, 'off');
  assert.is(c.remote, 'origin');
  assert.equal(c.mcp, { config: '.mcp.json', timeoutMs: 3000 });
});

test('researchers get their workspace from the pattern unless given', () => {
  const c = resolveConfig(
    { researchers: { 'elena-vasquez': { name: 'Elena' }, yuki: { workspace: 'people/yuki' } } },
    FILE,
  );
  assert.is(c.researchers.get('elena-vasquez')!.workspace, 'consortium/elena-vasquez');
  assert.is(c.researchers.get('yuki')!.workspace, 'people/yuki');
});

test('each invalid configuration is one error naming the key path', () => {
  rejects({ colour: true }, /colour: .*unknown/);
  rejects({ sessions: { staleAfter: 'soon' } }, /sessions\.staleAfter: expected a duration/);
  rejects({ sessions: { leaseTtl: 5 } }, /sessions\.leaseTtl/);
  rejects({ sessions: { archiveAfter: 'a week' } }, /sessions\.archiveAfter: expected a duration/);
  rejects(
    { server: { identity: 'github' } },
    /server\.identity: expected none, signed, gitolite, gitea or gitlab, got "github"/,
  );
  rejects({ server: { policy: { offline: 'block' } } }, /server\.policy\.offline: .*unknown/);
  rejects({ server: { onError: 'ignore' } }, /server\.onError: expected refuse or allow/);
  rejects(
    { researchers: { yuki: { keys: ['not a key'] } } },
    /researchers\.yuki\.keys\[0\]: expected an OpenSSH public key/,
  );
  assert.is(
    resolveConfig({ sessions: { archiveAfter: '30d' } }, FILE).sessions.archiveAfterMs,
    30 * 86_400_000,
  );
  rejects({ protocol: 'x', policy: { lease: 'maybe' } }, /policy\.lease: expected block, warn or off/);
  rejects(
    { gates: { G1: { requires: ['G9'] } } },
    /gates\.G1\.requires\[0\]: expected a gate declared under gates, got "G9"/,
  );
  rejects({ gates: { A: { requires: ['B'] }, B: { requires: ['A'] } } }, /cycle \(A -> B -> A\)/);
  rejects(
    { researchers: { ana: {} }, gates: { G1: { owner: 'bob' } } },
    /gates\.G1\.owner: expected a researcher listed/,
  );
  rejects({ researchers: { Upper: {} } }, /researchers\.Upper/);
  rejects({ researchers: { ana: { owns: 7 } } }, /researchers\.ana\.owns: expected a list of strings/);
  rejects({ workspaces: '../outside/*' }, /workspaces: expected a path inside the repository/);
  rejects({ workspaces: 'consortium' }, /workspaces: expected a folder pattern/);
  rejects({ gates: { 'bad gate': {} } }, /gates\.bad gate/);
  rejects({ remote: '--upload-pack=x' }, /remote/);
  rejects([1, 2], /expected a mapping/);
});

test('durations', () => {
  assert.is(parseDuration('90s'), 90_000);
  assert.is(parseDuration('30m'), 1_800_000);
  assert.is(parseDuration('2h'), 7_200_000);
  assert.is(parseDuration('1d'), 86_400_000);
  for (const bad of ['', '5', 'm', '1.5h', '-1m', '1w', '1 h']) assert.is(parseDuration(bad), undefined, bad);
});

test('researcher ids follow the rules of SPEC section 3', () => {
  for (const good of ['elena-vasquez', 'a', '0x', 'a.b_c-d', 'x'.repeat(64)])
    assert.is(researcherIdProblem(good), undefined, good);
  const hostile = [...HOSTILE_NAMES, '', '-a', '.a'];
  for (const bad of hostile) assert.ok(researcherIdProblem(bad), `${JSON.stringify(bad)} is refused`);
});

test('a session branch is read by the longest known researcher id', () => {
  const known = ['sam', 'sam-mitchell', 'elena'];
  assert.is(researcherOfBranch('claude-sam-mitchell-20261125-101010', 'claude-', known), 'sam-mitchell');
  assert.is(researcherOfBranch('claude-sam-20261125-101010', 'claude-', known), 'sam');
  assert.is(researcherOfBranch('feature/x', 'claude-', known), undefined);
  assert.is(researcherOfBranch('claude-nobody-20261125-101010', 'claude-', []), 'nobody');
});

test.run();
