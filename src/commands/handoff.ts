import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openContext } from '../context/context.js';
import { requireCurrentSession } from '../context/current-session.js';
import { requireIdentity } from '../context/identity.js';
import { parse } from '../core/args.js';
import type { CommandSpec } from '../core/command.js';
import { usageError } from '../core/errors.js';
import { print, printJson } from '../core/output.js';
import { handoffJson } from '../render/json.js';
import { reportSharing } from '../render/sharing.js';
import { latestHandoff, writeHandoff } from '../services/handoff.js';

/** What `handoff` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'handoff',
  usage: [
    'handoff [--summary-file F | -] [--next TEXT]... [--session ID] [--json]',
    'handoff show [--researcher ID] [--json]   (also: handoff --show)',
  ],
  summary: 'write or show the structured handoff of a session',
  details: `Writes a Markdown handoff for the current session: what changed since it started, protocol
impact, gates, open conflicts and leases, the summary given and next steps. The summary comes
from --summary-file F, or from stdin with - ; a "Next steps" section in it, and each --next,
become the Next steps. It is stored with the session and as a note on its head commit.
Without a summary of its own, a handoff keeps the summary and next steps of the session's last
one, and says so. handoff show prints the latest handoff of a researcher (you, or --researcher ID).`,
  examples: [
    {
      run: 'handoff --summary-file - --next "review PR 12"',
      says: 'write a handoff, the summary read from stdin',
    },
    { run: 'handoff show', says: 'the latest handoff of each of your sessions' },
    { run: 'handoff show --researcher elena-vasquez --json', says: "another researcher's, as JSON" },
  ],
  options: {
    show: { type: 'boolean' },
    researcher: { type: 'string', short: 'r' },
    'summary-file': { type: 'string' },
    next: { type: 'string', multiple: true },
    session: { type: 'string' },
    json: { type: 'boolean' },
  },
} as const satisfies CommandSpec;

const MAX_SUMMARY = 200_000;

export async function run(argv: string[]): Promise<number> {
  // `handoff show` is the grammar's verb (docs/cli.md); `handoff --show` keeps working.
  if (argv[0] === 'show') argv = ['--show', ...argv.slice(1)];
  const { values, positionals } = parse(command.name, argv, command.options, [0, 1]);
  if (values.show) {
    if (values['summary-file'] !== undefined || positionals.length || values.next)
      throw usageError('--show prints the latest handoff; it takes no summary.');
    const ctx = await openContext();
    const identity = requireIdentity(ctx, values.researcher);
    const researcher = identity.id;
    const latest = latestHandoff(ctx, researcher);
    if (values.json) printJson({ researcher, handoff: latest ? handoffJson(latest) : null });
    else if (latest) print(latest.markdown.trimEnd());
    else print(`No handoff from ${researcher} (known from ${identity.source}) yet.`);
    return 0;
  }
  if (values.researcher !== undefined)
    throw usageError(
      '--researcher goes with --show; a handoff is written for the current session (--session ID).',
    );
  const summary = readSummary(values['summary-file'], positionals[0], 'handoff');
  const ctx = await openContext();
  const session = requireCurrentSession(ctx, values.session);
  const written = await writeHandoff(ctx, session, { summary, next: values.next ?? [] });
  if (values.json)
    printJson({ ...handoffJson(written.handoff), noted: written.noted, shared: written.shared.ok });
  else {
    print(written.handoff.markdown.trimEnd());
    print('');
    print(
      `Handoff stored with session ${ctx.shortId(session.id)}${written.noted ? ` and as a note on ${written.handoff.head?.slice(0, 10)}` : ''}.`,
    );
  }
  return reportSharing(written.shared);
}

/** The summary: --summary-file F, --summary-file - or a lone - (stdin), or none. */
export function readSummary(
  file: string | undefined,
  positional: string | undefined,
  command: string,
): string {
  if (positional !== undefined && positional !== '-')
    throw usageError(
      `Unexpected argument ${JSON.stringify(positional)}: give the summary with --summary-file F, or - to read it from stdin. See git consortium help ${command}.`,
    );
  if (positional === '-' && file !== undefined)
    throw usageError('Give the summary once: --summary-file F or -.');
  const source = file ?? positional;
  if (source === undefined) return '';
  let text: string;
  try {
    text = source === '-' ? readFileSync(0, 'utf8') : readFileSync(path.resolve(source), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw usageError(
      source === '-'
        ? 'Could not read the summary from stdin.'
        : `Could not read the summary file ${JSON.stringify(source)}${code === 'ENOENT' ? ': it does not exist' : code === 'EISDIR' ? ': it is a folder' : ''}.`,
    );
  }
  if (text.length > MAX_SUMMARY)
    throw usageError(`The summary is too long (over ${MAX_SUMMARY} characters).`);
  if (text.includes('\0')) throw usageError('The summary must be text (it contains a NUL byte).');
  return text;
}
