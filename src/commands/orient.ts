import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openContext } from '../context/context.js';
import { requireIdentity } from '../context/identity.js';
import { parse } from '../core/args.js';
import { colors, print, printJson } from '../core/output.js';
import { sessionLine } from '../render/text.js';
import { coordinationView, sessionJson } from '../services/view.js';

const EXCERPT_LINES = 12;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse('orient', argv, {
    researcher: { type: 'string', short: 'r' },
    json: { type: 'boolean' },
  });
  const ctx = await openContext();
  const identity = requireIdentity(ctx, values.researcher);
  const me = ctx.researchers.get(identity.id);
  const view = coordinationView(ctx);
  const mine = view.live.filter((s) => s.researcher === identity.id);
  const others = view.live.filter((s) => s.researcher !== identity.id);
  const context = me?.context ? excerpt(path.join(ctx.repo.top, me.context)) : undefined;
  const workspace = me?.workspace ?? ctx.config.workspaces.replace('*', identity.id);
  if (values.json) {
    printJson({
      researcher: identity.id,
      source: identity.source,
      name: me?.name ?? null,
      role: me?.role ?? null,
      workspace,
      context: me?.context ? { file: me.context, excerpt: context ?? null } : null,
      gates: { owned: [], waitingOn: [], waitingOnMe: [] },
      sessions: { mine: mine.map(sessionJson), others: others.map(sessionJson) },
      handoff: null,
      alerts: view.conflicts
        .filter((c) => c.researchers.includes(identity.id))
        .map((c) => ({ kind: c.kind, severity: c.severity, message: c.message })),
    });
    return 0;
  }
  const c = colors();
  print(
    `You are ${c.bold(me?.name ? `${me.name} (${identity.id})` : identity.id)}, from the ${identity.source}.`,
  );
  if (me?.role) print(`Role: ${me.role}`);
  print(`Workspace: ${workspace}/`);
  if (context !== undefined) {
    print('');
    print(c.bold(`From ${me!.context}:`));
    print(context.replace(/^/gm, '  '));
  }
  print('');
  print(c.bold(`Your active sessions (${mine.length})`));
  for (const s of mine) print(sessionLine(s, ctx.nowMs, c));
  print(c.bold(`Other researchers' active sessions (${others.length})`));
  for (const s of others) print(sessionLine(s, ctx.nowMs, c));
  const alerts = view.conflicts.filter((x) => x.researchers.includes(identity.id));
  if (alerts.length) {
    print('');
    print(c.bold('Alerts'));
    for (const a of alerts) print(`  ${a.message}`);
  }
  return 0;
}

function excerpt(file: string): string | undefined {
  try {
    const lines = readFileSync(file, 'utf8').split('\n');
    return lines.slice(0, EXCERPT_LINES).join('\n').trimEnd() + (lines.length > EXCERPT_LINES ? '\n...' : '');
  } catch {
    return undefined;
  }
}
