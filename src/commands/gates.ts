import type { GateStatus } from '../analysis/gates.js';
import { openContext } from '../context/context.js';
import { requireIdentity } from '../context/identity.js';
import { parse } from '../core/args.js';
import type { CommandSpec } from '../core/command.js';
import { usageError } from '../core/errors.js';
import { type Colors, colors, print, printJson } from '../core/output.js';
import { gateJson } from '../render/json.js';

import { gatesMermaid } from '../render/mermaid.js';
import { reportSharing } from '../render/sharing.js';
import { changeGate, gatesView } from '../services/gates.js';

/** What `gates` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'gates',
  usage: [
    'gates [list] [--json | --mermaid]',
    'gates unlock G [--note TEXT] [--force] [-r ID]',
    'gates reopen G [--note TEXT] [--force] [-r ID]',
  ],
  summary: 'the gate-and-key framework: status, unlock, reopen',
  details: `Lists every gate with its owner, requirements and status. Only the owner unlocks a gate, and
only once every required gate is unlocked; reopening likewise needs the owner. --force overrides
and is recorded with the rule it broke. Every change is kept (action, by, at, note, forced) and
shared through sync; when machines disagree, the later change wins (ties by event id).
--mermaid prints the dependency graph as a Mermaid flowchart for a pull request.`,
  examples: [
    { run: 'gates', says: 'every gate with its owner, requirements and status' },
    { run: 'gates unlock G3 --note "results reviewed"', says: 'unlock a gate you own' },
    { run: 'gates --mermaid', says: 'the gates as a Mermaid graph' },
  ],
  options: {
    json: { type: 'boolean' },
    mermaid: { type: 'boolean' },
    note: { type: 'string' },
    force: { type: 'boolean' },
    researcher: { type: 'string', short: 'r' },
  },
} as const satisfies CommandSpec;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(command.name, argv, command.options, [0, 2]);
  const [verb = 'list', gate] = positionals;
  if (verb === 'list') {
    if (gate !== undefined)
      throw usageError('git consortium gates list takes no gate. See git consortium help gates.');
    if (values.note !== undefined || values.force)
      throw usageError('--note and --force go with gates unlock or gates reopen.');
    if (values.json && values.mermaid) throw usageError('Give --json or --mermaid, not both.');
    return list(!!values.json, !!values.mermaid);
  }
  if (verb !== 'unlock' && verb !== 'reopen')
    throw usageError(`git consortium gates takes list, unlock or reopen, not ${JSON.stringify(verb)}.`);
  if (gate === undefined) throw usageError(`git consortium gates ${verb} needs a gate id, such as G1.`);
  if (values.mermaid) throw usageError(`--mermaid goes with gates list, not gates ${verb}.`);
  if (values.note !== undefined && (values.note.length > 2000 || /\0/.test(values.note)))
    throw usageError('--note takes up to 2000 characters of text.');
  const ctx = await openContext();
  const identity = requireIdentity(ctx, values.researcher);
  const me = identity.id;
  const before = gatesView(ctx).gates;
  const change = await changeGate(ctx, {
    gate,
    action: verb,
    researcher: me,
    note: values.note,
    force: !!values.force,
  });
  const after = gatesView(ctx).gates;
  const nowReady = after
    .filter((g) => g.status === 'locked' && g.ready && !before.find((b) => b.id === g.id)?.ready)
    .map((g) => g.id);
  if (values.json) {
    printJson({
      gate: gateJson(change.gate),
      changed: !!change.event,
      event: change.event ?? null,
      nowReady,
      standing: change.standing,
      shared: change.shared.ok,
    });
  } else {
    const c = colors();
    const done = verb === 'unlock' ? 'Unlocked' : 'Reopened';
    const refused = !change.shared.ok && change.shared.reason === 'refused';
    if (!change.event) print(`${gate} is already ${change.gate.status}; nothing changed.`);
    else if (refused) print(`${gate} stays ${change.gate.status}: the server's gate refused the change.`);
    else {
      print(
        `${done} ${c.bold(gate)}${change.gate.title ? ` (${change.gate.title})` : ''} as ${me} (known from ${identity.source}).`,
      );
      if (change.event.forced)
        print(
          c.yellow(
            `Forced by ${me}, overriding: ${change.event.overrode.map(plain).join('; ')}. This is recorded.`,
          ),
        );
      if (nowReady.length) print(`Now ready to unlock: ${nowReady.join(', ')}.`);
      if (change.standing.length)
        print(c.yellow(`Still unlocked although they require ${gate}: ${change.standing.join(', ')}.`));
    }
  }
  return change.event ? reportSharing(change.shared) : 0;
}

async function list(json: boolean, mermaid: boolean): Promise<number> {
  const ctx = await openContext();
  const { gates } = gatesView(ctx);
  if (json) {
    printJson({ gates: gates.map(gateJson) });
    return 0;
  }
  if (mermaid) {
    print(gatesMermaid(gates));
    return 0;
  }
  const c = colors();
  if (gates.length === 0) {
    print('This consortium declares no gates (gates: in the configuration).');
    return 0;
  }
  const width = Math.max(...gates.map((g) => g.id.length));
  for (const g of gates) print(gateLine(g, width, c));
  return 0;
}

/** The JSON shape of SPEC section 6, and a little more. */

export function gateLine(g: GateStatus, width: number, c: Colors): string {
  const state =
    g.status === 'unlocked'
      ? c.green('unlocked     ')
      : g.ready
        ? c.yellow('locked, ready')
        : c.red('locked       ');
  const last = g.history.at(-1);
  const parts = [
    `${c.bold(g.id.padEnd(width))}  ${state}  ${g.title ?? ''}${g.owner ? `  (${g.owner})` : ''}`,
  ];
  if (g.requires.length)
    parts.push(
      `${' '.repeat(width + 2)}requires ${g.requires.map((r) => (g.missing.includes(r) ? `${r} (locked)` : r)).join(', ')}`,
    );
  if (last)
    parts.push(
      `${' '.repeat(width + 2)}${last.action === 'unlock' ? 'unlocked' : 'reopened'} by ${last.by} at ${last.at}${last.forced ? ' (forced)' : ''}${last.note ? `: ${last.note}` : ''}`,
    );
  if (g.status === 'unlocked' && g.missing.length)
    parts.push(
      c.yellow(
        `${' '.repeat(width + 2)}but ${g.missing.join(', ')} ${g.missing.length === 1 ? 'is' : 'are'} locked again`,
      ),
    );
  return parts.join('\n');
}

function plain(reason: string): string {
  if (reason.startsWith('not-owner:')) return `owned by ${reason.slice('not-owner:'.length)}`;
  if (reason.startsWith('requires:'))
    return `requires ${reason.slice('requires:'.length).replace(/,/g, ', ')} (locked)`;
  return reason;
}
