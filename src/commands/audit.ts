import { openContext } from '../context/context.js';
import { parse } from '../core/args.js';
import type { CommandSpec } from '../core/command.js';
import { durationArg } from '../core/duration.js';
import { usageError } from '../core/errors.js';
import { print, printJson } from '../core/output.js';
import { auditMarkdown } from '../render/audit.js';
import { auditTrail } from '../services/audit.js';

/** What `audit` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'audit',
  usage: ['audit [--since D] [--format markdown|json] [--json]'],
  summary: 'who did what: sessions, overrides, forced leases, gates, handoffs',
  details: `Prints every session change (heartbeats aside), push override, forced lease, gate change,
handoff and folded checkpoint of the period (--since D: the last D; default all history), read
from the records' own history, each with the commit id a reviewer can verify with git show.`,
  examples: [
    { run: 'audit --since 7d', says: 'who did what in the last week, as Markdown' },
    { run: 'audit --format json', says: 'the whole trail as JSON' },
  ],
  options: {
    since: { type: 'string' },
    format: { type: 'string' },
    json: { type: 'boolean' },
  },
} as const satisfies CommandSpec;

/** `audit`: the audit trail (services/audit.ts) as Markdown or JSON. Reading only. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, command.options);
  const format = values.json ? 'json' : (values.format ?? 'markdown');
  if (format !== 'markdown' && format !== 'json')
    throw usageError(`--format takes markdown or json, not ${JSON.stringify(values.format)}.`);
  if (values.json && values.format === 'markdown')
    throw usageError('--json and --format markdown contradict each other.');
  const sinceMs = values.since === undefined ? undefined : durationArg('--since', values.since);
  const trail = await auditTrail(await openContext(), sinceMs);
  if (format === 'json') printJson(trail);
  else print(auditMarkdown(trail));
  return 0;
}
