import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type LiveSession, leaseConflicts } from '../../src/analysis/conflicts.js';
import {
  blocking,
  ownerOf,
  type PushInput,
  protocolCandidates,
  pushConflicts,
} from '../../src/analysis/push.js';
import type { Researcher } from '../../src/core/config.js';

const researchers = new Map<string, Researcher>([
  ['elena', { id: 'elena', workspace: 'consortium/elena', owns: ['analysis/**'], keys: [] }],
  ['yuki', { id: 'yuki', workspace: 'consortium/yuki', owns: [], keys: [] }],
  ['aria', { id: 'aria', workspace: 'consortium/aria', owns: [], keys: [] }],
]);
const session = (id: string, researcher: string, files: string[], touched: string[] = []): LiveSession => ({
  id,
  researcher,
  branch: `claude-${researcher}-${id}`,
  worktree: `/w/${id}`,
  host: 'h',
  changedFiles: files,
  touchedFiles: touched,
});
const NOW = Date.parse('2026-11-25T10:00:00Z');
const input = (over: Partial<PushInput>): PushInput => ({
  files: [],
  me: { session: 'mine', researcher: 'yuki' },
  others: [],
  leases: [],
  researchers,
  config: {
    protocol: ['protocol/**', 'SPEC.md'],
    policy: {
      lease: 'block',
      protocol: 'block',
      foreign: 'warn',
    },
  },
  nowMs: NOW,
  ...over,
});

test('protocol: a protocol file another researcher has changed, and only that file', () => {
  const found = pushConflicts(
    input({
      files: ['protocol/a.md', 'protocol/b.md', 'src/x.py'],
      others: [
        session('s1', 'elena', ['protocol/a.md', 'src/x.py']),
        session('s2', 'aria', [], ['protocol/b.md']),
      ],
    }),
  );
  assert.equal(
    found.map((c) => [c.kind, c.paths, c.researchers, c.action]),
    [
      ['protocol', ['protocol/a.md'], ['elena'], 'block'],
      ['protocol', ['protocol/b.md'], ['aria'], 'block'],
    ],
  );
  assert.equal(found[0]!.with, [{ session: 's1', researcher: 'elena', branch: 'claude-elena-s1' }]);
  assert.match(found[0]!.message, /protocol\/a\.md.*elena.*s1.*claude-elena-s1/);
});

test("protocol: my own researcher's other sessions and non-protocol overlaps are not protocol conflicts", () => {
  const found = pushConflicts(
    input({
      files: ['protocol/a.md', 'src/x.py'],
      others: [session('s1', 'yuki', ['protocol/a.md']), session('s2', 'elena', ['src/x.py'])],
    }),
  );
  assert.equal(found, []);
});

test('lease: a pushed file under a lease of another session blocks; mine and expired ones do not', () => {
  const leases = [
    { pattern: 'data/**', session: 's1', researcher: 'elena', expiresAt: '2026-11-25T11:00:00Z' },
    { pattern: 'data/old.csv', session: 's2', researcher: 'aria', expiresAt: '2026-11-25T09:00:00Z' },
    { pattern: 'data/mine.csv', session: 'mine', researcher: 'yuki', expiresAt: '2026-11-25T11:00:00Z' },
  ];
  const found = pushConflicts(input({ files: ['data/old.csv', 'data/mine.csv', 'README.md'], leases }));
  assert.is(found.length, 1);
  assert.is(found[0]!.kind, 'lease');
  assert.equal(found[0]!.paths, ['data/old.csv', 'data/mine.csv']);
  assert.equal(found[0]!.sessions, ['s1']);
  assert.is(found[0]!.severity, 'high');
  // A pattern lease blocks every file it could match.
  assert.equal(pushConflicts(input({ files: ['data/x/y.csv'], leases }))[0]!.paths, ['data/x/y.csv']);
});

test('lease: two leases of one session that a push meets are one conflict, naming both', () => {
  const leases = [
    { pattern: 'src/**', session: 's1', researcher: 'elena', expiresAt: '2026-11-25T11:00:00Z' },
    { pattern: 'src/shared.py', session: 's1', researcher: 'elena', expiresAt: '2026-11-25T12:00:00Z' },
    { pattern: 'src/*.py', session: 's2', researcher: 'aria', expiresAt: '2026-11-25T11:00:00Z' },
  ];
  const found = pushConflicts(input({ files: ['src/other.py', 'src/shared.py'], leases }));
  assert.equal(
    found.map((c) => [c.sessions, c.paths]),
    [
      [['s1'], ['src/other.py', 'src/shared.py']],
      [['s2'], ['src/other.py', 'src/shared.py']],
    ],
  );
  assert.match(
    found[0]!.message,
    'leases src/** until 2026-11-25T11:00:00Z, src/shared.py until 2026-11-25T12:00:00Z',
  );
  assert.is(found[0]!.with[0]!.leaseUntil, '2026-11-25T12:00:00Z', 'the latest of them');
});

test("status's lease conflicts: a session's work under two leases of one holder is one conflict, naming both", () => {
  const leases = [
    { pattern: 'src/**', session: 's1', researcher: 'elena', expiresAt: '2026-11-25T11:00:00Z' },
    { pattern: 'src/shared.py', session: 's1', researcher: 'elena', expiresAt: '2026-11-25T12:00:00Z' },
  ];
  const found = leaseConflicts([session('s2', 'aria', ['src/shared.py', 'src/b.py'])], leases);
  assert.equal(
    found.map((c) => [c.sessions, c.paths]),
    [
      [
        ['s2', 's1'],
        ['src/b.py', 'src/shared.py'],
      ],
    ],
  );
  assert.match(found[0]!.message, 'leases src/** until 2026-11-25T11:00:00Z, src/shared.py until');
});

test("foreign: files in another researcher's workspace or owned paths, grouped by owner; my own are fine", () => {
  const found = pushConflicts(
    input({
      files: ['consortium/elena/n.md', 'analysis/t.py', 'consortium/yuki/mine.md', 'consortium/aria/a.md'],
      others: [session('s1', 'elena', [])],
    }),
  );
  assert.equal(
    found.map((c) => [c.kind, c.researchers, c.paths, c.sessions, c.action, c.severity]),
    [
      ['foreign', ['elena'], ['consortium/elena/n.md', 'analysis/t.py'], ['s1'], 'warn', 'low'],
      ['foreign', ['aria'], ['consortium/aria/a.md'], [], 'warn', 'low'],
    ],
  );
  assert.equal(found[1]!.with, [{ session: null, researcher: 'aria', branch: null }]);
});

test('policy: off drops a kind, warn does not block, block does', () => {
  const base = {
    files: ['protocol/a.md', 'consortium/elena/n.md'],
    others: [session('s1', 'elena', ['protocol/a.md'])],
  };
  const policy = (p: Partial<PushInput['config']['policy']>) => ({
    protocol: ['protocol/**'],
    policy: {
      lease: 'block',
      protocol: 'block',
      foreign: 'warn',
      ...p,
    } as const,
  });
  assert.is(blocking(pushConflicts(input(base))).length, 1);
  assert.equal(
    pushConflicts(input({ ...base, config: policy({ protocol: 'warn' }) })).map((c) => c.action),
    ['warn', 'warn'],
  );
  assert.equal(pushConflicts(input({ ...base, config: policy({ protocol: 'off', foreign: 'off' }) })), []);
  assert.equal(
    pushConflicts(input({ ...base, config: policy({ foreign: 'block' }) })).map((c) => c.action),
    ['block', 'block'],
  );
});

test('a push by nobody in particular: every workspace is foreign, protocol conflicts with everyone', () => {
  const found = pushConflicts(
    input({
      me: {},
      files: ['protocol/a.md', 'consortium/yuki/x.md'],
      others: [session('s1', 'yuki', ['protocol/a.md'])],
    }),
  );
  assert.equal(
    found.map((c) => c.kind),
    ['protocol', 'foreign'],
  );
});

test('ownerOf and protocolCandidates', () => {
  assert.is(ownerOf(researchers, 'consortium/elena'), 'elena');
  assert.is(ownerOf(researchers, 'consortium/elena-other/x'), undefined);
  assert.is(ownerOf(researchers, 'analysis/deep/x.py'), 'elena');
  const others = [session('s1', 'elena', ['protocol/a.md']), session('s2', 'aria', ['src/x.py'])];
  assert.equal(
    protocolCandidates(['protocol/a.md', 'src/x.py'], others, ['protocol/**']).map((s) => s.id),
    ['s1'],
  );
  assert.equal(protocolCandidates(['src/x.py'], others, ['protocol/**']), []);
});

test.run();
