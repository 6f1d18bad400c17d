import { version } from '../version.js';

/**
 * The few GitHub REST calls `ci post` makes, with Node's own fetch: every request bounded in
 * time, pages followed through the Link header (bounded too), and failures kept as the HTTP
 * status so the caller can tell "this token cannot write" (403) from the rest.
 */
export class GitHubError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    detail: string,
  ) {
    super(`GitHub answered ${status} to ${method} ${path}${detail ? `: ${detail}` : ''}`);
  }
}

const REQUEST_TIMEOUT_MS = 20_000;
const MAX_PAGES = 20;

export class GitHub {
  constructor(
    private readonly apiUrl: string,
    private readonly token: string,
  ) {}

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const { data } = await this.send<T>(method, this.url(path), body);
    return data;
  }

  /** Every item of a listing, following `Link: <...>; rel="next"`. */
  async all<T = unknown>(path: string): Promise<T[]> {
    const items: T[] = [];
    let next: string | undefined = this.url(path);
    for (let page = 0; next && page < MAX_PAGES; page++) {
      const answer: { data: T[]; link?: string } = await this.send<T[]>('GET', next);
      const { data, link } = answer;
      if (!Array.isArray(data)) break;
      items.push(...data);
      next = /<([^>]+)>;\s*rel="next"/.exec(link ?? '')?.[1];
    }
    return items;
  }

  private url(path: string): string {
    return `${this.apiUrl.replace(/\/+$/, '')}${path}`;
  }

  private async send<T>(method: string, url: string, body?: unknown): Promise<{ data: T; link?: string }> {
    const path = url.startsWith(this.apiUrl) ? url.slice(this.apiUrl.replace(/\/+$/, '').length) : url;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          accept: 'application/vnd.github+json',
          authorization: `Bearer ${this.token}`,
          'x-github-api-version': '2022-11-28',
          'user-agent': `git-consortium/${version}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      throw new GitHubError(0, method, path, cause ?? (error as Error).message);
    }
    const text = await response.text();
    let data: unknown = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = text;
    }
    if (!response.ok) {
      const message = (data as { message?: unknown } | null)?.message;
      const detail = typeof message === 'string' ? message : text.slice(0, 200);
      throw new GitHubError(response.status, method, path, detail);
    }
    return { data: data as T, link: response.headers.get('link') ?? undefined };
  }
}
