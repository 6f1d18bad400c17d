import { readFileSync } from 'node:fs';
import path from 'node:path';
import { blockedBy, type GateStatus, gatesOf } from '../analysis/gates.js';
import { openContext } from '../context/context.js';
import { requireIdentity } from '../context/identity.js';
import { parse } from '../core/args.js';
import { type Colors, colors, print, printJson } from '../core/output.js';
import { sessionLine } from '../render/text.js';
import { alertsSinceLastLook, gatesView } from '../services/gates.js';
import { latestHandoff } from '../services/handoff.js';
import { coordinationView, sessionJson } from '../services/view.js';
import { gateJson } from './gates.js';
import { handoffJson } from './handoff.js';

const EXCERPT_LINES = 12;

/**
 * Who I am and where things stand for me: identity, context excerpt, my gates, sessions, my
 * latest handoff and what changed since my last look. An agent reads --json at the start of a
 * conversation and after every compaction; a person reads the text.
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parse('orient', argv, {
    researcher: { type: 'string', short: 'r' },
    json: { type: 'boolean' },
  });
  const ctx = await openContext();
  const identity = requireIdentity(ctx, values.researcher);
  const id = identity.id;
  const me = ctx.researchers.get(id);
  const view = coordinationView(ctx);
  const mine = view.live.filter((s) => s.researcher === id);
  const others = view.live.filter((s) => s.researcher !== id);
  const context = me?.context ? excerpt(path.join(ctx.repo.top, me.context)) : undefined;
  const workspace = me?.workspace ?? ctx.config.workspaces.replace('*', id);
  const { gates } = gatesView(ctx);
  const my = gatesOf(gates, id);
  const handoff = latestHandoff(ctx, id);
  const conflicts = view.conflicts.filter((c) => c.researchers.includes(id));
  const news = alertsSinceLastLook(ctx, id, true);
  if (values.json) {
    printJson({
      researcher: id,
      source: identity.source,
      name: me?.name ?? null,
      role: me?.role ?? null,
      workspace,
      context: me?.context ? { file: me.context, excerpt: context ?? null } : null,
      gates: {
        owned: my.owned.map(brief),
        waitingOn: my.waitingOn.map(brief),
        waitingOnMe: my.waitingOnMe.map((g) => ({ ...brief(g), neededBy: blockedBy(gates, g.id) })),
      },
      sessions: { mine: mine.map(sessionJson), others: others.map(sessionJson) },
      handoff: handoff ? handoffJson(handoff) : null,
      alerts: [
        ...news,
        ...conflicts.map((c) => ({
          kind: c.kind,
          severity: c.severity,
          message: c.message,
          sessions: c.sessions,
          paths: c.paths,
        })),
      ],
    });
    return 0;
  }
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
  for (const s of mine) print(sessionLine(s, ctx.nowMs, c));
  print(c.bold(`Other researchers' active sessions (${others.length})`));
  for (const s of others) print(sessionLine(s, ctx.nowMs, c));
  print('');
  if (handoff) {
    print(c.bold(`Your latest handoff (session ${handoff.session}, ${handoff.at})`));
    print(handoff.markdown.trimEnd().replace(/^/gm, '  '));
  } else print('No handoff from you yet.');
  if (news.length || conflicts.length) {
    print('');
    print(c.bold('Alerts'));
    for (const a of news) print(`  ${a.kind === 'gate' ? 'gate' : 'protocol'}: ${a.message}`);
    for (const a of conflicts) print(`  ${a.kind}: ${a.message}`);
  }
  return 0;
}

/** A gate as orient shows it: its last change only (gates --json has the whole history). */
function brief(g: GateStatus) {
  const { history, ...rest } = gateJson(g);
  return { ...rest, last: history.at(-1) ?? null };
}

function gateState(g: GateStatus, c: Colors): string {
  const title = g.title ? ` ${g.title}` : '';
  if (g.status === 'unlocked') return `${g.id}${title}: ${c.green('unlocked')}`;
  if (g.ready) return `${g.id}${title}: ${c.yellow('locked, ready to unlock')}`;
  return `${g.id}${title}: ${c.red('locked')}, waiting on ${g.missing.join(', ')}`;
}

function excerpt(file: string): string | undefined {
  try {
    const lines = readFileSync(file, 'utf8').split('\n');
    return lines.slice(0, EXCERPT_LINES).join('\n').trimEnd() + (lines.length > EXCERPT_LINES ? '\n...' : '');
  } catch {
    return undefined;
  }
}
