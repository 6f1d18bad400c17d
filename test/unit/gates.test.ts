import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  dependents,
  describeRefusal,
  type GateEvent,
  gateStates,
  gatesOf,
  isGateEvent,
  mergeEvents,
  refusals,
} from '../../src/analysis/gates.js';
import type { Gate } from '../../src/core/config.js';
import { renderHandoff, splitSummary } from '../../src/render/handoff.js';
import { gatesMermaid } from '../../src/render/mermaid.js';
import { HANDOFF_SECTIONS } from '../helpers/contract.js';

/** The pure side of the gate-and-key framework: replay, readiness, the merge rule, Mermaid. */
const g = (id: string, owner: string, requires: string[] = [], title?: string): [string, Gate] => [
  id,
  { id, owner, requires, title },
];
const GATES = new Map<string, Gate>([
  g('G5', 'elena', [], 'Statistical rigor'),
  g('G6', 'alex'),
  g('G7', 'yuki', ['G5', 'G6']),
  g('G8', 'sam', ['G5', 'G6', 'G7']),
]);

let n = 0;
const ev = (gate: string, action: 'unlock' | 'reopen', at: string, by = 'elena', id?: string): GateEvent => ({
  id: id ?? `${at}-${String(n++).padStart(4, '0')}`,
  gate,
  action,
  by,
  at: `2030-01-01T${at}:00.000Z`,
  note: null,
  forced: false,
  overrode: [],
  session: null,
});
const state = (events: GateEvent[], id: string) => gateStates(GATES, events).find((s) => s.id === id)!;

test('with no events every gate is locked; those without requirements are ready', () => {
  const states = gateStates(GATES, []);
  assert.equal(
    states.map((s) => [s.id, s.status, s.ready, s.missing]),
    [
      ['G5', 'locked', true, []],
      ['G6', 'locked', true, []],
      ['G7', 'locked', false, ['G5', 'G6']],
      ['G8', 'locked', false, ['G5', 'G6', 'G7']],
    ],
  );
});

test('replay: the later event wins, whatever order the events arrive in', () => {
  const a = ev('G5', 'unlock', '10:00');
  const b = ev('G5', 'reopen', '10:05');
  const c = ev('G5', 'unlock', '10:10');
  for (const order of [
    [a, b, c],
    [c, b, a],
    [b, a, c],
  ]) {
    assert.is(state(order, 'G5').status, 'unlocked');
    assert.equal(
      state(order, 'G5').history.map((h) => h.action),
      ['unlock', 'reopen', 'unlock'],
    );
  }
  assert.is(state([a, b], 'G5').status, 'locked');
});

test('replay: events at the same time are ordered by id, so every machine agrees', () => {
  const x = ev('G5', 'unlock', '10:00', 'elena', 'a');
  const y = ev('G5', 'reopen', '10:00', 'elena', 'b');
  assert.is(state([x, y], 'G5').status, 'locked');
  assert.is(state([y, x], 'G5').status, 'locked');
});

test('mergeEvents keeps every event of every writer once', () => {
  const a = ev('G5', 'unlock', '10:00');
  const b = ev('G6', 'unlock', '10:01', 'alex');
  const c = ev('G7', 'unlock', '10:02', 'yuki');
  const merged = mergeEvents([
    [a, b],
    [b, c],
    [a, c],
  ]);
  assert.equal(
    merged.map((e) => e.id),
    [a.id, b.id, c.id],
  );
});

test('readiness follows requirements; events of undeclared gates are ignored', () => {
  const events = [
    ev('G5', 'unlock', '10:00'),
    ev('G6', 'unlock', '10:01', 'alex'),
    ev('G99', 'unlock', '10:02'),
  ];
  assert.is(state(events, 'G7').ready, true);
  assert.is(state(events, 'G8').ready, false);
  assert.equal(state(events, 'G8').missing, ['G7']);
  assert.is(gateStates(GATES, events).length, 4);
});

test('refusals name the owner and the missing requirements', () => {
  const g7 = state([ev('G5', 'unlock', '10:00')], 'G7');
  assert.equal(refusals(g7, 'yuki', 'unlock'), ['requires:G6']);
  assert.equal(refusals(g7, 'elena', 'unlock'), ['not-owner:yuki', 'requires:G6']);
  assert.equal(refusals(g7, 'yuki', 'reopen'), [], 'reopening needs only ownership');
  const text = describeRefusal(g7, 'elena', 'unlock', refusals(g7, 'elena', 'unlock'));
  assert.match(text, /G7 belongs to yuki: only yuki may unlock it \(you are elena\)/);
  assert.match(text, /G7 requires G6, which is still locked/);
});

test('gatesOf: owned, waiting on (others), waiting on me', () => {
  const states = gateStates(GATES, [ev('G5', 'unlock', '10:00')]);
  const yuki = gatesOf(states, 'yuki');
  assert.equal(
    yuki.owned.map((s) => s.id),
    ['G7'],
  );
  assert.equal(
    yuki.waitingOn.map((s) => s.id),
    ['G6'],
  );
  assert.equal(
    yuki.waitingOnMe.map((s) => s.id),
    ['G7'],
  );
  assert.equal(
    gatesOf(states, 'alex').waitingOnMe.map((s) => s.id),
    ['G6'],
  );
  assert.equal(dependents(GATES, 'G5'), ['G7', 'G8']);
});

test('isGateEvent rejects malformed events', () => {
  assert.ok(isGateEvent(ev('G5', 'unlock', '10:00')));
  assert.not.ok(isGateEvent({ ...ev('G5', 'unlock', '10:00'), action: 'delete' }));
  assert.not.ok(isGateEvent({ ...ev('G5', 'unlock', '10:00'), at: 'yesterday' }));
  assert.not.ok(isGateEvent(null));
});

test('mermaid: edges from requirement to gate, styles per status, hostile titles escaped', () => {
  const gates = new Map<string, Gate>([
    g('G.1', 'elena', [], 'Say "hi" <script>'),
    g('end', 'yuki', ['G.1']),
  ]);
  const out = gatesMermaid(gateStates(gates, [ev('G.1', 'unlock', '10:00')]));
  assert.match(out, /^flowchart LR$/m);
  assert.match(out, /gate_G_1 --> gate_end/);
  assert.match(out, /G\.1: Say #quot;hi#quot; #lt;script#gt;/);
  assert.not.match(out, /<script>/);
  assert.match(out, /class gate_G_1 unlocked/);
  assert.match(out, /class gate_end locked/);
});

test('splitSummary moves a Next steps section out of the summary', () => {
  const s = splitSummary('Did things.\n\nNext steps:\n1. one\n- two\n\n## Notes\nmore');
  assert.is(s.summary, 'Did things.\n\n## Notes\nmore');
  assert.equal(s.steps, ['one', 'two']);
  assert.equal(splitSummary('just text').steps, []);
});

test('renderHandoff always writes the seven sections, even with nothing to say', () => {
  const md = renderHandoff({
    session: {
      id: 's1',
      researcher: 'elena',
      name: null,
      branch: null,
      worktree: '/w',
      host: 'h',
      intent: '',
      startedAt: 't0',
      endedAt: null,
      startCommit: null,
    },
    at: 't1',
    head: null,
    commits: [],
    files: [],
    unpushed: 0,
    protocol: { files: [], sessions: [], researchers: [] },
    gates: { touched: [], unlocked: [], waiting: [], waitingOnMe: [] },
    leases: [],
    conflicts: [],
    summary: '',
    steps: [],
    keptFrom: null,
    note: null,
    nextSteps: [],
  });
  const headings = md.split('\n').filter((l) => l.startsWith('## '));
  assert.equal(headings, HANDOFF_SECTIONS);
  assert.match(md, /No summary was given\./);
});

test.run();
