import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { shortIds } from '../../src/core/ids.js';
import { shortPath, until } from '../../src/render/glance.js';

/** Text for people at a glance: short ids, times, paths. */
test('short ids: six characters, longer where two share them, never starting at a dash', () => {
  const ids = ['20261201-100000000-4f2a9c', '20261201-100000001-4f2a9c', '20261201-100000002-a0b0c0'];
  const short = shortIds(ids);
  assert.is(short.get(ids[2]!), 'a0b0c0');
  for (const id of ids.slice(0, 2)) {
    assert.not.ok(short.get(id)!.startsWith('-'), short.get(id));
    assert.ok(short.get(id)!.length >= 8);
  }
  assert.is.not(short.get(ids[0]!), short.get(ids[1]!));
});

test('short ids of hundreds of sessions: each the shortest suffix no other id ends with', () => {
  const hex = (n: number) => (n * 2654435761).toString(16).slice(-6).padStart(6, '0');
  const ids = Array.from(
    { length: 400 },
    (_, i) => `20261201-1000${String(i % 50).padStart(5, '0')}-${hex(i % 130)}`,
  );
  const short = shortIds(ids);
  for (const id of new Set(ids)) {
    const s = short.get(id)!;
    assert.ok(id.endsWith(s) && s.length >= 6 && !s.startsWith('-'), s);
    assert.not.ok(
      ids.some((other) => other !== id && other.endsWith(s)),
      `${s} names only ${id}`,
    );
    const shorter = s.slice(1);
    if (shorter.length >= 6 && !shorter.startsWith('-'))
      assert.ok(
        ids.some((other) => other !== id && other.endsWith(shorter)),
        `${s} is as short as it can be`,
      );
  }
});

test('times are local and relative; paths keep the folder name whole', () => {
  const now = Date.parse('2026-12-01T11:29:00.000Z');
  assert.is(until('2026-12-01T13:27:00.000Z', now), 'until 13:27, in 1h58m');
  assert.is(until('2026-12-01T11:26:00.000Z', now), 'expired 3m ago');
  assert.is(shortPath('/home/yuki/work/tcp', 36, '/home/yuki'), '~/work/tcp');
  assert.match(
    shortPath('/srv/research/consortium/tcp-claude-yuki-tanaka-20261201-154827', 36, '/x'),
    /claude-yuki-tanaka-20261201-154827$/,
  );
});

test.run();
