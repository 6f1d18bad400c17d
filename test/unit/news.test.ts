import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { GateEvent } from '../../src/analysis/gates.js';
import { whatChanged } from '../../src/analysis/news.js';
import type { Session } from '../../src/store/sessions.js';

/** "What changed for me" at sync: the comparison alone, on records written out here. */
const session = (id: string, host: string, state: Session['state'], extra?: Session['extra']): Session =>
  ({
    id,
    researcher: `r-${id}`,
    branch: `claude-r-${id}`,
    host,
    intent: '',
    state,
    extra,
  }) as Session;

const gate = (id: string): GateEvent =>
  ({
    id,
    gate: 'G1',
    action: 'unlock',
    by: 'yuki',
    at: '2026-12-01T10:00:00.000Z',
    forced: false,
    note: '',
  }) as GateEvent;

test("another machine's sessions that started, ended or merged since the last sync are news", () => {
  const before = {
    sessions: new Map([
      ['b', 'active'],
      ['c', 'active'],
      ['d', 'ended'],
    ]),
    gates: new Set(['g1']),
  };
  const after = [
    session('a', 'far', 'active'),
    session('b', 'far', 'ended'),
    session('c', 'far', 'merged'),
    session('d', 'far', 'ended'),
  ];
  const news = whatChanged(before, after, [gate('g1'), gate('g2')], 'here');
  assert.equal(
    news.sessions.started.map((s) => s.id),
    ['a'],
  );
  assert.equal(
    news.sessions.ended.map((s) => s.id),
    ['b'],
  );
  assert.equal(
    news.sessions.merged.map((s) => s.id),
    ['c'],
  );
  assert.equal(news.gates.length, 1, 'only the gate event not known before');
  assert.equal(news.sessions.started[0], {
    id: 'a',
    researcher: 'r-a',
    branch: 'claude-r-a',
    host: 'far',
    intent: '',
    state: 'active',
  });
});

test("this machine's own sessions are no news, unless another machine ended them", () => {
  const before = {
    sessions: new Map([
      ['b', 'active'],
      ['c', 'active'],
    ]),
    gates: new Set<string>(),
  };
  const after = [
    session('a', 'here', 'active'),
    session('b', 'here', 'ended'),
    session('c', 'here', 'ended', { recovered: { host: 'far' } }),
  ];
  const news = whatChanged(before, after, [], 'here');
  assert.equal(news.sessions.started, []);
  assert.equal(
    news.sessions.ended.map((s) => s.id),
    ['c'],
  );
});

test.run();
