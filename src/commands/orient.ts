import { blockedBy, type GateStatus } from '../analysis/gates.js';
import { openContext } from '../context/context.js';
import { type Identity, requireIdentity } from '../context/identity.js';
import { parse } from '../core/args.js';
import type { CommandSpec } from '../core/command.js';
import { ConsortiumError, EXIT } from '../core/errors.js';
import { type Colors, colors, print, printJson } from '../core/output.js';
import { relative } from '../render/glance.js';
import { orientationJson } from '../render/json.js';
import { sessionLines } from '../render/status.js';

import { orientationOf } from '../services/orientation.js';

/** What `orient` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'orient',
  usage: ['orient [-r ID] [--json]'],
  summary: 'who I am, my gates, sessions, latest handoff and alerts',
  details: `Prints the researcher you are (and how that was decided), name, role, workspace, an excerpt
of your context file, the gates you own (with status and whether they are ready), the gates you
wait on and those waiting on you, your active sessions and everyone else's, your latest handoff,
and alerts: conflicts involving you, and what changed since your last look here (gates unlocked
or reopened by others, protocol files changed by others, pushes over your session or lease,
forced leases that took yours, sessions that ended or were merged, handoffs that name you). Always exits 0.`,
  examples: [
    { run: 'orient', says: 'where things stand for you: your sessions, leases, conflicts, gates, handoffs' },
    { run: 'orient -r yuki-tanaka --json', says: 'the same for another researcher, as JSON' },
  ],
  options: {
    researcher: { type: 'string', short: 'r' },
    json: { type: 'boolean' },
  },
} as const satisfies CommandSpec;

/**
 * Who I am and where things stand for me: identity, context excerpt, my gates, sessions, my
 * latest handoff and what changed since my last look. An agent reads --json at the start of a
 * conversation and after every compaction; a person reads the text.
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, command.options);
  const ctx = await openContext();
  // orient always exits 0 (SPEC section 6): without an identity it says how to give one.
  let identity: Identity;
  try {
    identity = requireIdentity(ctx, values.researcher);
  } catch (error) {
    if (!(error instanceof ConsortiumError) || error.exitCode !== EXIT.usage) throw error;
    if (values.json) printJson({ researcher: null, problem: error.message });
    else print(error.message);
    return 0;
  }
  const o = orientationOf(ctx, identity);
  if (values.json) {
    printJson(orientationJson(o));
    return 0;
  }
  const { me, workspace, context, gates, my, mine, others, handoff, news, conflicts } = o;
  const id = identity.id;
  const c = colors();
  print(`You are ${c.bold(me?.name ? `${me.name} (${id})` : id)} (known from ${identity.source}).`);
  if (me?.role) print(`Role: ${me.role}`);
  print(`Workspace: ${workspace}/`);
  if (context !== undefined) {
    print('');
    print(c.bold(`From ${me!.context}:`));
    print(context.replace(/^/gm, '  '));
  }
  if (gates.length) {
    print('');
    print(c.bold(`Your gates (${my.owned.length})`));
    for (const g of my.owned) print(`  ${gateState(g, c)}`);
    if (my.waitingOn.length) {
      print(c.bold('You wait on'));
      for (const g of my.waitingOn) print(`  ${g.id} ${g.title ?? ''} (${g.owner ?? 'no owner'}): locked`);
    }
    if (my.waitingOnMe.length) {
      print(c.bold('Waiting on you'));
      for (const g of my.waitingOnMe) print(`  ${g.id} is needed by ${blockedBy(gates, g.id).join(', ')}`);
    }
  }
  print('');
  print(c.bold(`Your active sessions (${mine.length})`));
  for (const line of sessionLines(mine, id, ctx.nowMs, c, (x) => ctx.shortId(x))) print(line);
  print(c.bold(`Other researchers' active sessions (${others.length})`));
  for (const line of sessionLines(others, id, ctx.nowMs, c, (x) => ctx.shortId(x))) print(line);
  print('');
  if (handoff) {
    print(
      c.bold(
        `Your latest handoff (session ${ctx.shortId(handoff.session)}, ${relative(handoff.at, ctx.nowMs)})`,
      ),
    );
    print(handoff.markdown.trimEnd().replace(/^/gm, '  '));
  } else print('No handoff from you yet.');
  if (news.length || conflicts.length) {
    print('');
    print(c.bold('Alerts'));
    for (const a of news) print(`  ${a.kind}: ${a.message}`);
    for (const a of conflicts) print(`  ${a.kind}: ${a.message}`);
  }
  return 0;
}

function gateState(g: GateStatus, c: Colors): string {
  const title = g.title ? ` ${g.title}` : '';
  if (g.status === 'unlocked') return `${g.id}${title}: ${c.green('unlocked')}`;
  if (g.ready) return `${g.id}${title}: ${c.yellow('locked, ready to unlock')}`;
  return `${g.id}${title}: ${c.red('locked')}, waiting on ${g.missing.join(', ')}`;
}
