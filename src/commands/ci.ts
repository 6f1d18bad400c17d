import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { annotations, buildReport, type CiReport } from '../ci/report.js';
import { appendSummary, setStepOutput } from '../ci/summary.js';
import { openContext } from '../context/context.js';
import { parse } from '../core/args.js';
import { EXIT, environmentError, usageError } from '../core/errors.js';
import { print, printJson } from '../core/output.js';
import { listVerbs } from './verbs.js';

/**
 * `ci report` and `ci post` (SPEC section 11): what the GitHub workflow runs. The report is
 * computed by the pre-push gate's analysis; posting goes through the GitHub REST API.
 */
export async function run(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === 'report') return report(rest);
  if (verb === 'post') return post(rest);
  // A bare noun lists what it does (docs/cli.md).
  if (verb === undefined) return listVerbs('ci');
  throw usageError(
    `git consortium ci takes report or post, not ${JSON.stringify(verb)}. See git consortium help ci.`,
  );
}

async function report(argv: string[]): Promise<number> {
  const { values } = parse('ci', argv, {
    base: { type: 'string' },
    head: { type: 'string' },
    format: { type: 'string' },
    output: { type: 'string' },
    json: { type: 'boolean' },
    'no-fetch': { type: 'boolean' },
  });
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
  else process.stdout.write(text);
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
  if (process.env.GITHUB_ACTIONS === 'true')
    for (const line of annotations(r)) process.stderr.write(`${line}\n`);
}

function writeOut(file: string, text: string): void {
  try {
    writeFileSync(path.resolve(file), text);
  } catch (error) {
    throw environmentError(`Could not write ${file}: ${(error as Error).message}`);
  }
}

async function post(argv: string[]): Promise<number> {
  const { values } = parse('ci', argv, { report: { type: 'string' }, json: { type: 'boolean' } });
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
