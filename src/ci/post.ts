import { readFileSync } from 'node:fs';
import { usageError } from '../core/errors.js';
import { writeTo } from '../core/stdio.js';
import { type CiReport, code, type Level } from '../render/ci-report.js';
import { GitHub, GitHubError } from './github.js';
import { appendSummary } from './summary.js';

/**
 * `ci post` (SPEC section 11): the report on GitHub. Exactly one report comment per pull
 * request, found again by a hidden marker and edited in place; on level `high`, exactly one
 * open issue labelled `session-coordination` for the branch, closed once the level drops. A
 * token that cannot write (a pull request from a fork) is not a failure: the job summary says
 * so and carries the report.
 */
export const COMMENT_MARKER = '<!-- git-consortium:report -->';
export const ISSUE_LABEL = 'session-coordination';
const issueMarker = (branch: string) => `<!-- git-consortium:issue branch=${encodeURIComponent(branch)} -->`;

export type PostedReport = Pick<CiReport, 'level' | 'branch' | 'markdown'>;

export interface PostOutcome {
  pullRequest: number | null;
  comment: { action: 'created' | 'updated' | 'unchanged'; id: number } | null;
  issue: { action: 'opened' | 'updated' | 'unchanged' | 'closed'; number: number } | null;
  /** Set when the token could not write: what the job summary now says instead. */
  readOnly: string | null;
}

/** The parts of the event payload (GITHUB_EVENT_PATH) that matter here; anything may be missing. */
interface GitHubEvent {
  pull_request?: { number?: unknown; head?: { repo?: { full_name?: unknown } } };
}
interface Comment {
  id: number;
  body?: unknown;
}
interface Issue {
  number: number;
  title?: unknown;
  body?: unknown;
  pull_request?: unknown;
}

interface GitHubEnv {
  api: GitHub;
  repo: string;
  owner: string;
  name: string;
  event: GitHubEvent;
}

async function githubEnv(env: NodeJS.ProcessEnv): Promise<GitHubEnv> {
  const token = env.GITHUB_TOKEN;
  const repo = env.GITHUB_REPOSITORY;
  if (!token)
    throw usageError('ci post needs GITHUB_TOKEN (in a workflow, pass github.token to it through env).');
  if (!repo || !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repo))
    throw usageError('ci post needs GITHUB_REPOSITORY as owner/name (GitHub Actions sets it).');
  const apiUrl = env.GITHUB_API_URL || 'https://api.github.com';
  if (!URL.canParse(apiUrl)) throw usageError(`GITHUB_API_URL is not a URL: ${JSON.stringify(apiUrl)}.`);
  let event: GitHubEvent = {};
  if (env.GITHUB_EVENT_PATH) {
    try {
      event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8'));
    } catch (error) {
      throw usageError(
        `GITHUB_EVENT_PATH ${env.GITHUB_EVENT_PATH} could not be read as JSON: ${(error as Error).message}`,
      );
    }
  }
  const [owner, name] = repo.split('/') as [string, string];
  return {
    api: await GitHub.connect(apiUrl, token),
    repo,
    owner,
    name,
    event: event && typeof event === 'object' ? event : {},
  };
}

export async function postReport(
  report: PostedReport,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PostOutcome> {
  const gh = await githubEnv(env);
  const outcome: PostOutcome = { pullRequest: null, comment: null, issue: null, readOnly: null };
  try {
    outcome.pullRequest = await pullRequestOf(gh, report.branch);
    if (outcome.pullRequest !== null) outcome.comment = await upsertComment(gh, outcome.pullRequest, report);
    if (report.branch) outcome.issue = await syncIssue(gh, report.branch, report.level, report.markdown);
  } catch (error) {
    if (!(error instanceof GitHubError) || (error.status !== 403 && !(error.status === 404 && isFork(gh))))
      throw error;
    outcome.readOnly =
      `The token of this run cannot write to ${gh.repo} (${error.message})` +
      (isFork(gh) ? ': this pull request comes from a fork, whose runs get a read-only token.' : '.') +
      ' The coordination report is in this job summary instead.';
    await writeSummaryNote(env, outcome.readOnly, report.markdown);
  }
  return outcome;
}

/** The repository's route parameters. */
const where = (gh: GitHubEnv) => ({ owner: gh.owner, repo: gh.name });

const isFork = (gh: GitHubEnv) => {
  const head = gh.event?.pull_request?.head?.repo?.full_name;
  return typeof head === 'string' && head !== gh.repo;
};

/** The pull request of the event, else the open pull request whose head is the branch. */
async function pullRequestOf(gh: GitHubEnv, branch: string | null): Promise<number | null> {
  const fromEvent = gh.event?.pull_request?.number;
  if (typeof fromEvent === 'number' && Number.isInteger(fromEvent)) return fromEvent;
  if (!branch) return null;
  const open = await gh.api.request<{ number?: unknown }[]>('GET /repos/{owner}/{repo}/pulls', {
    ...where(gh),
    state: 'open',
    head: `${gh.owner}:${branch}`,
    per_page: 1,
  });
  const number = Array.isArray(open) ? open[0]?.number : undefined;
  return typeof number === 'number' && Number.isInteger(number) ? number : null;
}

async function upsertComment(
  gh: GitHubEnv,
  number: number,
  report: PostedReport,
): Promise<NonNullable<PostOutcome['comment']>> {
  const body = `${COMMENT_MARKER}\n${report.markdown}`;
  const comments = await gh.api.all<Comment>('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
    ...where(gh),
    issue_number: number,
  });
  const mine = comments.find((c) => typeof c?.body === 'string' && c.body.includes(COMMENT_MARKER));
  if (mine) {
    if (mine.body === body) return { action: 'unchanged', id: mine.id };
    await gh.api.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', {
      ...where(gh),
      comment_id: mine.id,
      body,
    });
    return { action: 'updated', id: mine.id };
  }
  const created = await gh.api.request<Comment>('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
    ...where(gh),
    issue_number: number,
    body,
  });
  return { action: 'created', id: created?.id };
}

/** Opens, updates or closes the branch's coordination issue to match its level. */
async function syncIssue(
  gh: GitHubEnv,
  branch: string,
  level: Level,
  markdown: string,
): Promise<PostOutcome['issue']> {
  const marker = issueMarker(branch);
  const open = await gh.api.all<Issue>('GET /repos/{owner}/{repo}/issues', {
    ...where(gh),
    state: 'open',
    labels: ISSUE_LABEL,
  });
  const mine = open.filter((i) => !i?.pull_request && typeof i?.body === 'string' && i.body.includes(marker));
  if (level === 'high') {
    const title = `Session coordination: high-severity conflicts on ${branch}`;
    const body =
      `${marker}\nThe branch ${code(branch)} meets high-severity conflicts with other live sessions. ` +
      'git-consortium keeps this issue up to date and closes it once the level drops.\n\n' +
      markdown;
    const [first] = mine;
    if (!first) {
      const created = await gh.api.request<Issue>('POST /repos/{owner}/{repo}/issues', {
        ...where(gh),
        title,
        body,
        labels: [ISSUE_LABEL],
      });
      return { action: 'opened', number: created?.number };
    }
    if (first.body === body && first.title === title) return { action: 'unchanged', number: first.number };
    await gh.api.request('PATCH /repos/{owner}/{repo}/issues/{issue_number}', {
      ...where(gh),
      issue_number: first.number,
      title,
      body,
    });
    return { action: 'updated', number: first.number };
  }
  let closed: PostOutcome['issue'] = null;
  for (const issue of mine) {
    await gh.api.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      ...where(gh),
      issue_number: issue.number,
      body: `The coordination level of this branch dropped to **${level}**: closing.`,
    });
    await gh.api.request('PATCH /repos/{owner}/{repo}/issues/{issue_number}', {
      ...where(gh),
      issue_number: issue.number,
      state: 'closed',
      state_reason: 'completed',
    });
    closed = { action: 'closed', number: issue.number };
  }
  return closed;
}

/** Adds the note (and the report, unless `ci report` already put it there) to the job summary. */
async function writeSummaryNote(env: NodeJS.ProcessEnv, note: string, markdown: string): Promise<void> {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) {
    writeTo(2, `${note}\n`);
    return;
  }
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // not written yet
  }
  await appendSummary(`\n> [!NOTE]\n> ${note}\n\n${current.includes(markdown) ? '' : markdown}`);
}

/** Reads a report written by `ci report --format json --output F`. */
export function readReport(file: string): PostedReport {
  let raw: Partial<Record<keyof PostedReport, unknown>> | null;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw usageError(`The report ${file} could not be read as JSON: ${(error as Error).message}`);
  }
  const levels: unknown[] = ['none', 'low', 'medium', 'high'];
  if (
    !raw ||
    typeof raw !== 'object' ||
    !levels.includes(raw.level) ||
    typeof raw.markdown !== 'string' ||
    !(raw.branch === null || typeof raw.branch === 'string')
  ) {
    throw usageError(`${file} is not a report written by git consortium ci report --format json.`);
  }
  return { level: raw.level as Level, branch: raw.branch, markdown: raw.markdown };
}
