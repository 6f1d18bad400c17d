import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openContext } from '../../src/context/context.js';
import { resolveIdentity } from '../../src/context/identity.js';
import { localStateFile, readJson, writeJson } from '../../src/core/local-state.js';
import { updateRef } from '../../src/git/refs.js';
import { type EditReason, leasedWrites } from '../../src/services/edit-check.js';
import type { PushCheck } from '../../src/services/push-check.js';
import { decideOverride } from '../../src/services/push-record.js';
import { addApproval, listApprovals } from '../../src/store/approvals.js';
import { writeLeaseCommit } from '../../src/store/leases.js';
import { LEASES_REF } from '../../src/store/refs.js';
import { createSession, listSessions, updateSession } from '../../src/store/sessions.js';
import { consortium, must } from '../helpers/sandbox.js';

/**
 * The store, context and services layers called in this process, against a real repository
 * (a clone of a bare remote): no CLI process per step, and the environment set per test.
 */
const { m, cleanup } = consortium(['elena']);
const { elena } = m;
test.after(cleanup);

const AUTHOR = { name: 'Elena', email: 'elena@example.org' };
const ws = (...parts: string[]) => path.join(elena.dir, 'consortium', 'elena-vasquez', ...parts);
const ctxAt = (dir = elena.dir) => openContext(dir);

/** Runs `body` with some process variables set (undefined: unset), putting them back after. */
async function withEnv<T>(vars: Record<string, string | undefined>, body: () => Promise<T> | T): Promise<T> {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars))
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  try {
    return await body();
  } finally {
    for (const [k, v] of Object.entries(before))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}

const record = (id: string, researcher = 'elena-vasquez') => ({
  id,
  researcher,
  branch: 'main',
  worktree: elena.dir,
  host: 'elena',
  user: 'elena',
  email: 'elena@example.org',
  agent: { kind: 'human' } as const,
  intent: '',
  shared: false,
  startedAt: '2026-12-01T10:00:00.000Z',
  startCommit: null,
  heartbeatAt: '2026-12-01T10:00:00.000Z',
  endedAt: null,
  state: 'active' as const,
  head: null,
  changedFiles: [],
  touchedFiles: [],
});

test('store: a session written here and a newer copy fetched from the remote merge into one history', async () => {
  const ctx = await ctxAt();
  const id = '20261201-100000000-aaaaaa';
  const first = createSession(ctx.repo, record(id), AUTHOR);
  // Another machine's newer version of the record, as a fetch leaves it in the mirror.
  const theirs = updateSession(
    ctx.repo,
    id,
    'elsewhere',
    (r) => ({ ...r, intent: 'from the other machine' }),
    AUTHOR,
  )!;
  must(elena.git(['update-ref', `refs/consortium-remote/sessions/${id}`, theirs.commit]));
  must(elena.git(['update-ref', `refs/consortium/sessions/${id}`, first.commit]));
  const merged = updateSession(
    ctx.repo,
    id,
    'here',
    (r) => ({ ...r, heartbeatAt: '2026-12-01T11:00:00.000Z' }),
    AUTHOR,
  )!;
  assert.is(merged.intent, 'from the other machine', 'the newer copy is the base: nothing of it is lost');
  assert.is(merged.seq, theirs.seq + 1);
  const parents = must(elena.git(['rev-list', '--parents', '-1', merged.commit]))
    .stdout.trim()
    .split(' ');
  assert.equal(parents.slice(1).sort(), [first.commit, theirs.commit].sort(), 'both histories are kept');
});

test('store: a record that is not a commit is reported, and never hides the others', async () => {
  const ctx = await ctxAt();
  const blob = must(elena.git(['hash-object', '-w', '--stdin'], { input: 'not a record' })).stdout.trim();
  must(elena.git(['update-ref', 'refs/consortium/sessions/20261201-100000000-bbbbbb', blob]));
  const { sessions, problems } = listSessions(ctx.repo);
  assert.ok(sessions.some((s) => s.id === '20261201-100000000-aaaaaa'));
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, 'it points at a blob, not a commit');
  must(elena.git(['update-ref', '-d', 'refs/consortium/sessions/20261201-100000000-bbbbbb']));
});

test('context: who am I, in the order of the flag, the variable, the session, the workspace folder, git config', async () => {
  await withEnv({ CONSORTIUM_RESEARCHER: undefined }, async () => {
    must(elena.git(['config', 'consortium.researcher', 'aria-blackwood']));
    const top = await ctxAt();
    assert.equal(resolveIdentity(top, 'yuki-tanaka'), { id: 'yuki-tanaka', source: 'the --researcher flag' });
    // The session of this worktree and branch (from the first test) is elena's, wherever she stands.
    assert.equal(resolveIdentity(top), {
      id: 'elena-vasquez',
      source: 'your session 20261201-100000000-aaaaaa',
    });
    const yukisFolder = path.join(elena.dir, 'consortium', 'yuki-tanaka');
    assert.is(
      resolveIdentity(await ctxAt(yukisFolder))?.id,
      'elena-vasquez',
      "in yuki's folder, still elena",
    );
    await withEnv({ CONSORTIUM_RESEARCHER: 'yuki-tanaka' }, async () => {
      assert.is(resolveIdentity(await ctxAt(ws()))?.source, 'CONSORTIUM_RESEARCHER');
    });

    // Two live sessions of elena here: still elena. Add one of yuki's: the session says nothing,
    // and the folder decides.
    const second = createSession(top.repo, record('20261201-100000000-cccccc'), AUTHOR);
    assert.equal(resolveIdentity(await ctxAt(yukisFolder)), {
      id: 'elena-vasquez',
      source: 'your 2 sessions on this worktree and branch',
    });
    const yukis = createSession(top.repo, record('20261201-100000000-dddddd', 'yuki-tanaka'), AUTHOR);
    assert.equal(resolveIdentity(await ctxAt(yukisFolder)), {
      id: 'yuki-tanaka',
      source: 'the workspace folder you are in',
    });
    assert.equal(resolveIdentity(await ctxAt()), {
      id: 'aria-blackwood',
      source: 'git config consortium.researcher',
    });
    for (const s of [second, yukis])
      must(elena.git(['update-ref', '-d', `refs/consortium/sessions/${s.id}`]));
    must(elena.git(['config', '--unset', 'consortium.researcher']));
  });
});

test('services: writes that meet a lease, through a symlink and through a folder that holds the file', async () => {
  const ctx = await ctxAt();
  const holder = createSession(
    ctx.repo,
    { ...record('20261201-100000000-cccccc', 'yuki-tanaka'), host: 'yuki' },
    AUTHOR,
  );
  const lease = {
    pattern: 'protocol/spec.md',
    session: holder.id,
    researcher: 'yuki-tanaka',
    acquiredAt: new Date().toISOString(),
    ttlMs: 3_600_000,
    forced: false,
    reason: null,
  };
  const table = { format: 1, seq: 1, leases: [lease], change: null };
  assert.ok(updateRef(ctx.repo, LEASES_REF, writeLeaseCommit(ctx.repo, table, undefined, AUTHOR)));
  mkdirSync(path.join(elena.dir, 'links'), { recursive: true });
  symlinkSync(path.join(elena.dir, 'protocol'), path.join(elena.dir, 'links', 'p'));
  const fresh = await ctxAt();
  const found = (how: string, file: string) =>
    leasedWrites(fresh, [{ how, path: path.join(elena.dir, file) }], undefined);
  assert.is(found('redirection', 'links/p/spec.md')[0]?.path, 'protocol/spec.md', 'a symlink is its target');
  assert.is(found('rm', 'protocol').length, 1, 'removing the folder removes the leased file');
  assert.is(found('git checkout', '.').length, 1, 'checking out the top writes it too');
  assert.is(
    found('redirection', 'protocol').length,
    0,
    'a redirection to a folder name writes no file below it',
  );
  assert.is(found('tee', 'src/shared.py').length, 0);
  const reason: EditReason = found('tee', 'protocol/spec.md')[0]!.reason;
  assert.is(reason.kind, 'lease');
  assert.match(reason.facts, `leased by yuki-tanaka (session ${holder.id}`);
  assert.equal(reason.remedies[0], {
    kind: 'ask-to-release',
    researchers: ['yuki-tanaka'],
    pattern: 'protocol/spec.md',
  });
});

test('services: who may let a blocked push through, by the environment and policy.agentOverride', async () => {
  const blocked = {
    refs: [
      {
        ref: 'refs/heads/x',
        tip: 'a'.repeat(40),
        commits: [],
        files: [],
        session: { id: '20261201-100000000-aaaaaa' },
      },
    ],
    conflicts: [],
    blocked: true,
    fetched: true,
  } as unknown as PushCheck;
  const agent = { AI_AGENT: 'claude-code_2-1-332_agent', CONSORTIUM_OVERRIDE: 'trust me' };
  const withPolicy = async (agentOverride: string) => {
    writeFileSync(
      path.join(elena.dir, 'consortium.config.yaml'),
      `${must(elena.git(['show', 'HEAD:consortium.config.yaml'])).stdout}\npolicy:\n  agentOverride: ${agentOverride}\n`,
    );
    return ctxAt();
  };
  await withEnv({ CONSORTIUM_OVERRIDE: 'agreed', AI_AGENT: undefined, CLAUDECODE: undefined }, async () => {
    assert.equal(decideOverride(await withPolicy('block'), blocked).override, {
      reason: 'agreed',
      actor: 'person',
    });
  });
  await withEnv(agent, async () => {
    const refused = decideOverride(await withPolicy('block'), blocked);
    assert.is(refused.override, undefined);
    assert.is(refused.way.kind, 'person');
    assert.equal(decideOverride(await withPolicy('allow'), blocked).override, {
      reason: 'trust me',
      actor: 'agent',
    });
    const ask = await withPolicy('ask');
    assert.is(decideOverride(ask, blocked).override, undefined, 'no approval yet');
    addApproval(ask.repo, {
      session: '20261201-100000000-aaaaaa',
      by: 'elena-vasquez',
      user: 'elena',
      reason: 'reviewed',
      at: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    assert.is(decideOverride(ask, blocked).override?.approvedBy, 'elena-vasquez');
    assert.equal(listApprovals(ask.repo), [], 'used up');
    assert.is(decideOverride(ask, blocked).override, undefined);
  });
  must(elena.git(['checkout', '-q', '--', 'consortium.config.yaml']));
});

test('core: local state is written whole or not at all, and an unreadable file is no file', async () => {
  const ctx = await ctxAt();
  const file = localStateFile(ctx.repo.commonDir, 'test-state.json');
  assert.ok(writeJson(file, { a: 1 }));
  assert.equal(readJson(file), { a: 1 });
  writeFileSync(file, '{ half');
  assert.is(readJson(file), undefined);
  // A folder that cannot be made (a file stands where it would be): a false, not a throw.
  assert.not.ok(writeJson(path.join(file, 'x.json'), {}));
});

test.run();
