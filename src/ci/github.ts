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
/** Retries stay short: the job waits on them, and a failure is reported, not hidden. */
const RETRIES = 2;
const RETRY_BASE_MS = 250;

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
      retry: {
        retries: RETRIES,
        retryAfterBaseValue: RETRY_BASE_MS,
        doNotRetry: [400, 401, 403, 404, 409, 422],
      },
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
    try {
      return (await this.octokit.request(route, params)).data as T;
    } catch (error) {
      throw failure(error, route);
    }
  }

  /** Every item of a listing, page after page. */
  async all<T = unknown>(route: string, params: Params = {}): Promise<T[]> {
    try {
      return (await this.octokit.paginate(route, { per_page: 100, ...params })) as T[];
    } catch (error) {
      throw failure(error, route);
    }
  }
}

function failure(error: unknown, route: string): GitHubError {
  const e = error as { status?: unknown; message?: unknown; response?: { data?: { message?: unknown } } };
  const status = typeof e.status === 'number' ? e.status : 0;
  const message = e.response?.data?.message ?? e.message;
  return new GitHubError(status, route, typeof message === 'string' ? message.split('\n')[0]! : '');
}
