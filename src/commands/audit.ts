import { openContext } from '../context/context.js';
import { parse } from '../core/args.js';
import { durationArg } from '../core/duration.js';
import { usageError } from '../core/errors.js';
import { print, printJson } from '../core/output.js';
import { auditMarkdown } from '../render/audit.js';
import { auditTrail } from '../services/audit.js';

/** `audit`: the audit trail (services/audit.ts) as Markdown or JSON. Reading only. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parse('audit', argv, {
    since: { type: 'string' },
    format: { type: 'string' },
    json: { type: 'boolean' },
  });
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
