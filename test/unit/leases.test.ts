import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  expiryOf,
  type Holder,
  type LeaseRecord,
  leasesBlocking,
  liveLeases,
  normalize,
  patternsOverlap,
} from '../../src/analysis/leases.js';
import { matches } from '../../src/core/patterns.js';

const overlapping: [string, string][] = [
  ['protocol/**', 'protocol/spec.md'],
  ['protocol/spec.md', 'protocol/spec.md'],
  ['protocol/**', 'protocol/*.md'],
  ['**/*.md', 'protocol/spec.md'],
  ['**/*.md', 'protocol/**'],
  ['**', 'anything/at/all'],
  ['src/*.py', 'src/shared.py'],
  ['src/*.py', 'src/s*'],
  ['src/a*b', 'src/*c*'],
  ['src/{a,b}.py', 'src/b.py'],
  ['src/[ab].py', 'src/?.py'],
  ['src/[a-c].py', 'src/[c-e].py'],
  ['a/**/z', 'a/b/**'],
  ['a/**/z', '**/b/z'],
  ['**/*.tcp.json', 'schemas/x.tcp.json'],
  ['.github/**', '**/*.yml'],
  ['protocol/', 'protocol/spec.md'],
  ['./protocol/spec.md', 'protocol/spec.md'],
  // Two extended globs are not analysed: taken to overlap.
  ['src/!(x).py', 'src/*.py'],
  ['src/+(a|b).py', 'docs/*.md'],
];

const disjoint: [string, string][] = [
  ['protocol/**', 'src/shared.py'],
  ['protocol/spec.md', 'protocol/other.md'],
  ['src/*.py', 'src/*.md'],
  ['src/*.py', 'src/lib/x.py'],
  ['src/a*', 'src/b*'],
  ['src/[ab].py', 'src/[cd].py'],
  ['src/{a,b}.py', 'src/c.py'],
  ['a/*/c', 'a/c'],
  ['a/**/z', 'b/**'],
  ['*.md', 'docs/*.md'],
  ['protocol/**', 'protocol'],
  ['src/?.py', 'src/ab.py'],
  // A plain path against an extended glob is decided by matching it.
  ['src/!(x).py', 'src/x.py'],
];

test('patterns that some path could match both overlap, in either order', () => {
  for (const [a, b] of overlapping) {
    assert.ok(patternsOverlap(a, b), `${a} overlaps ${b}`);
    assert.ok(patternsOverlap(b, a), `${b} overlaps ${a}`);
  }
});

test('patterns no path can match both do not overlap, in either order', () => {
  for (const [a, b] of disjoint) {
    assert.not.ok(patternsOverlap(a, b), `${a} is disjoint from ${b}`);
    assert.not.ok(patternsOverlap(b, a), `${b} is disjoint from ${a}`);
  }
});

test('overlap agrees with matching on witness paths (a path overlaps every pattern it matches)', () => {
  const paths = [
    'protocol/spec.md',
    'protocol/x/y.md',
    'src/shared.py',
    'src/a.py',
    'src/lib/x.py',
    'docs/readme.md',
    'a.md',
    '.github/ci.yml',
    'a/b/z',
    'a/z',
  ];
  const patterns = [...new Set([...overlapping, ...disjoint].flat())].filter((p) => !/[!+]\(/.test(p));
  for (const p of patterns)
    for (const q of patterns)
      for (const file of paths)
        if (matches(file, normalize(p)) && matches(file, normalize(q)))
          assert.ok(patternsOverlap(p, q), `${p} and ${q} both match ${file}`);
  for (const p of patterns)
    for (const file of paths)
      assert.is(patternsOverlap(file, p), matches(file, normalize(p)), `${file} vs ${p}`);
});

const lease = (over: Partial<LeaseRecord> = {}): LeaseRecord => ({
  pattern: 'protocol/**',
  session: 's1',
  researcher: 'elena',
  acquiredAt: '2026-01-01T10:00:00.000Z',
  ttlMs: 60_000,
  forced: false,
  reason: null,
  ...over,
});
const at = (iso: string) => Date.parse(iso);

test('a lease lasts its ttl from the later of acquisition and its holder heartbeat', () => {
  const active: Holder = { state: 'active', heartbeatAt: '2026-01-01T10:30:00.000Z' };
  assert.is(expiryOf(lease(), active), at('2026-01-01T10:31:00.000Z'));
  const older: Holder = { state: 'active', heartbeatAt: '2026-01-01T09:00:00.000Z' };
  assert.is(expiryOf(lease(), older), at('2026-01-01T10:01:00.000Z'));
  assert.is(expiryOf(lease(), undefined), at('2026-01-01T10:01:00.000Z'), 'unknown holder: no renewal');
  assert.is(expiryOf(lease(), { state: 'ended', heartbeatAt: active.heartbeatAt }), undefined);
  assert.is(expiryOf(lease(), { state: 'merged', heartbeatAt: active.heartbeatAt }), undefined);
});

test('liveLeases drops expired and released leases and tells when the others expire', () => {
  const holders = new Map<string, Holder>([
    ['s1', { state: 'active', heartbeatAt: '2026-01-01T10:00:00.000Z' }],
    ['s2', { state: 'ended', heartbeatAt: '2026-01-01T10:00:00.000Z' }],
  ]);
  const table = [lease(), lease({ session: 's2', pattern: 'src/**' }), lease({ pattern: 'x', ttlMs: 1000 })];
  const live = liveLeases(table, holders, at('2026-01-01T10:00:30.000Z'));
  assert.equal(
    live.map((l) => [l.pattern, l.expiresAt]),
    [['protocol/**', '2026-01-01T10:01:00.000Z']],
  );
  assert.is(liveLeases(table, holders, at('2026-01-01T10:01:00.000Z')).length, 0, 'expiry is exclusive');
});

test('leasesBlocking: other sessions whose pattern could name the file; never my own', () => {
  const leases = [lease(), lease({ session: 's2', pattern: 'src/*.py' })];
  assert.equal(
    leasesBlocking(leases, 'protocol/spec.md', 's2').map((l) => l.session),
    ['s1'],
  );
  assert.equal(leasesBlocking(leases, 'protocol/spec.md', 's1'), []);
  assert.equal(leasesBlocking(leases, 'docs/readme.md', undefined), []);
  assert.equal(
    leasesBlocking(leases, 'src/shared.py', undefined).map((l) => l.session),
    ['s2'],
  );
  assert.equal(
    leasesBlocking(leases, 'src/**', 's1').map((l) => l.session),
    ['s2'],
    'a pattern is blocked by the leases it overlaps',
  );
});

test.run();
