import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { annotations, buildReport, type CiReport } from '../ci/report.js';
import { appendSummary, setStepOutput } from '../ci/summary.js';
import { openContext } from '../context/context.js';
import { parse } from '../core/args.js';
import { type CommandSpec, pick } from '../core/command.js';
import { EXIT, environmentError, usageError } from '../core/errors.js';
import { print, printJson } from '../core/output.js';
import { writeTo } from '../core/stdio.js';
import { listVerbs } from './verbs.js';

/** What `ci` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'ci',
  usage: [
    'ci report [--base REF] [--head REF] [--format markdown|json | --json] [--output F] [--no-fetch]',
    'ci post [--report F] [--json]',
  ],
  summary: 'the coordination report of a branch or pull request (GitHub)',
  details: `report: for the pushed branch or pull request (GITHUB_HEAD_REF, GITHUB_REF, else --head or the
branch checked out), compared with --base (default: the pull request's base, else the default
branch): its researcher and session, the protocol files it changes and who they affect, its
conflicts with the other live sessions (the pre-push gate's analysis, after fetching the
coordination state unless --no-fetch), the gate graph as Mermaid, and a level: the highest
severity found, or none. With GITHUB_STEP_SUMMARY set it appends the report there, with
GITHUB_OUTPUT it sets the step output level, and inside GitHub Actions it prints
::warning file=...:: annotations for the conflicted files (on stderr).
post: posts the report (F: written by ci report --format json --output F; else computed now)
through the GitHub REST API (GITHUB_TOKEN, GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_EVENT_PATH):
one comment per pull request, kept up to date; on level high one open issue labelled
session-coordination for the branch, closed when the level drops. A token that cannot write
(a pull request from a fork) leaves a note in the job summary instead of failing.`,
  examples: [
    { run: 'ci report --base origin/main --head HEAD', says: 'the report of a pull request, as Markdown' },
    { run: 'ci post --report report.json', says: "post it as the pull request's comment and check" },
  ],
  options: {
    base: { type: 'string' },
    head: { type: 'string' },
    format: { type: 'string' },
    output: { type: 'string' },
    json: { type: 'boolean' },
    'no-fetch': { type: 'boolean' },
    report: { type: 'string' },
  },
} as const satisfies CommandSpec;

/**
 * `ci report` and `ci post` (SPEC section 11): what the GitHub workflow runs. The report is
 * computed by the pre-push gate's analysis; posting goes through the GitHub REST API.
 */
export async function run(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === 'report') return report(rest);
  if (verb === 'post') return post(rest);
  // A bare noun lists what it does (docs/cli.md).
  if (verb === undefined) return listVerbs(command);
  throw usageError(
    `git consortium ci takes report or post, not ${JSON.stringify(verb)}. See git consortium help ci.`,
  );
}

async function report(argv: string[]): Promise<number> {
  const { values } = parse(
    command.name,
    argv,
    pick(command, ['base', 'head', 'format', 'output', 'json', 'no-fetch']),
  );
  const format = values.json ? 'json' : (values.format ?? 'markdown');
  if (format !== 'markdown' && format !== 'json')
    throw usageError(`--format takes markdown or json, not ${JSON.stringify(format)}.`);
  if (values.json && values.format === 'markdown')
    throw usageError('Give --json or --format markdown, not both.');
  const ctx = await openContext();
  const result = await buildReport(ctx, { base: values.base, head: values.head, fetch: !values['no-fetch'] });
  const text = format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : result.markdown;
  if (values.output !== undefined) writeOut(values.output, text);
  else if (format === 'json') printJson(result);
  else writeTo(1, text);
  await publishToActions(result);
  return EXIT.ok;
}

/**
 * In a GitHub Actions job: the job summary and the `level` step output, through @actions/core
 * (loaded only here), and the file annotations. @actions/core writes workflow commands to
 * stdout, which is the report's own channel (`ci report --json`), so the annotations go to
 * stderr, where the runner reads workflow commands too.
 */
async function publishToActions(r: CiReport): Promise<void> {
  await appendSummary(`${r.markdown}\n`);
  await setStepOutput('level', r.level);
  if (process.env.GITHUB_ACTIONS === 'true') for (const line of annotations(r)) writeTo(2, `${line}\n`);
}

function writeOut(file: string, text: string): void {
  try {
    writeFileSync(path.resolve(file), text);
  } catch (error) {
    throw environmentError(`Could not write ${file}: ${(error as Error).message}`);
  }
}

async function post(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, pick(command, ['report', 'json']));
  const { postReport, readReport } = await import('../ci/post.js');
  const posted = values.report
    ? readReport(values.report)
    : await buildReport(await openContext(), { fetch: true });
  let outcome: Awaited<ReturnType<typeof postReport>>;
  try {
    outcome = await postReport(posted);
  } catch (error) {
    const { GitHubError } = await import('../ci/github.js');
    if (error instanceof GitHubError) throw environmentError(`Could not post the report: ${error.message}.`);
    throw error;
  }
  if (values.json) {
    printJson({ level: posted.level, branch: posted.branch, ...outcome });
    return EXIT.ok;
  }
  if (outcome.readOnly) {
    print(outcome.readOnly);
    return EXIT.ok;
  }
  const parts: string[] = [];
  if (outcome.comment)
    parts.push(`comment ${outcome.comment.action} on pull request #${outcome.pullRequest}`);
  else parts.push('no open pull request for this branch: no comment');
  if (outcome.issue) parts.push(`issue #${outcome.issue.number} ${outcome.issue.action}`);
  print(`Report posted (level ${posted.level}): ${parts.join('; ')}.`);
  return EXIT.ok;
}
