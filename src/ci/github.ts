import type { Octokit } from '@octokit/rest';
import { version } from '../version.js';

/**
 * The GitHub REST API as `ci post` uses it, through Octokit (loaded only here): routes with
 * their parameters, pagination, and retries of what may pass (5xx, rate limits), each request
 * bounded in time. A failure is kept as the HTTP status, so the caller can tell "this token
 * cannot write" (403) from the rest.
 */
export class GitHubError extends Error {
  constructor(
    readonly status: number,
    readonly route: string,
    detail: string,
  ) {
    super(`GitHub answered ${status || 'nothing'} to ${route}${detail ? `: ${detail}` : ''}`);
  }
}

const REQUEST_TIMEOUT_MS = 20_000;
/** One retry of a read that may pass (a 5xx, a rate limit): the job waits on it. */
const READ_RETRIES = 1;
const RETRY_BASE_MS = 250;
/** Octokit's own list of answers never worth retrying, and a conflict. */
const DO_NOT_RETRY = [400, 401, 403, 404, 409, 410, 422, 451];
const MAX_PAGES = 20;

type Params = Record<string, unknown>;

export class GitHub {
  private constructor(private readonly octokit: Octokit) {}

  static async connect(apiUrl: string, token: string): Promise<GitHub> {
    const [{ Octokit }, { retry }] = await Promise.all([
      import('@octokit/rest'),
      import('@octokit/plugin-retry'),
    ]);
    const Retrying = Octokit.plugin(retry);
    const octokit = new Retrying({
      auth: token,
      baseUrl: apiUrl.replace(/\/+$/, ''),
      userAgent: `git-consortium/${version}`,
      retry: { retries: READ_RETRIES, retryAfterBaseValue: RETRY_BASE_MS, doNotRetry: DO_NOT_RETRY },
      request: {
        fetch: (url: string, init: RequestInit) =>
          fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }),
      },
      log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    });
    return new GitHub(octokit as unknown as Octokit);
  }

  /** One request: `route` like 'PATCH /repos/{owner}/{repo}/issues/{issue_number}'. */
  async request<T = unknown>(route: string, params: Params = {}): Promise<T> {
    // A write is never retried: GitHub may have acted on it already (a second comment, a second issue).
    const write = !route.startsWith('GET ');
    try {
      return (await this.octokit.request(route, write ? { ...params, request: { retries: 0 } } : params))
        .data as T;
    } catch (error) {
      throw failure(error, route);
    }
  }

  /** Every item of a listing, page after page (at most MAX_PAGES of them). */
  async all<T = unknown>(route: string, params: Params = {}): Promise<T[]> {
    let pages = 0;
    try {
      const page = (response: { data: unknown }, done: () => void) => {
        if (++pages >= MAX_PAGES) done();
        return response.data as T[];
      };
      // The route is ours and checked by the tests; Octokit's types know each route by name.
      const paginate = this.octokit.paginate as unknown as (
        route: string,
        params: Params,
        map: typeof page,
      ) => Promise<T[]>;
      return await paginate(route, { per_page: 100, ...params }, page);
    } catch (error) {
      throw failure(error, route);
    }
  }
}

function failure(error: unknown, route: string): GitHubError {
  const e = error as {
    status?: unknown;
    message?: unknown;
    response?: { data?: { message?: unknown } };
  };
  // Octokit reports a request that got no answer (refused, timed out) as a 500 without a response.
  const status = typeof e.status === 'number' && e.response ? e.status : 0;
  const message = e.response?.data?.message ?? e.message;
  return new GitHubError(status, route, typeof message === 'string' ? message.split('\n')[0]! : '');
}
