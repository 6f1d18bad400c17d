import path from 'node:path';
import { now } from '../core/clock.js';
import type { Config, Researcher } from '../core/config.js';
import { loadConfig } from '../core/load-config.js';
import { researchersOf } from '../core/workspaces.js';
import { currentBranch, gitConfigValue, openRepo, type Repo } from '../git/repo.js';
import { listSessions, type SessionList } from '../store/sessions.js';

/**
 * Everything a command needs to know about where it runs: the repository, its configuration,
 * the researchers, the sessions (read once, on first use), and the time.
 */
export class Context {
  private sessionList?: SessionList;
  private researcherMap?: Map<string, Researcher>;
  readonly nowMs = now().getTime();

  constructor(
    readonly repo: Repo,
    readonly config: Config,
  ) {}

  get researchers(): Map<string, Researcher> {
    this.researcherMap ??= researchersOf(this.config, this.repo.top);
    return this.researcherMap;
  }

  private email?: { value: string | undefined };

  /** git's user.email here, read once: record commits and session records both want it. */
  get userEmail(): string | undefined {
    this.email ??= { value: gitConfigValue(this.repo, 'user.email') };
    return this.email.value;
  }

  get branch(): string | undefined {
    return currentBranch(this.repo);
  }

  /** All sessions; problems with unreadable records go to stderr once. */
  sessions(): SessionList {
    if (!this.sessionList) {
      this.sessionList = listSessions(this.repo);
      for (const problem of this.sessionList.problems) process.stderr.write(`warning: ${problem}\n`);
    }
    return this.sessionList;
  }

  /** Forget the cached sessions after a write. */
  invalidate(): void {
    this.sessionList = undefined;
  }
}

export async function openContext(cwd = process.cwd()): Promise<Context> {
  const repo = openRepo(cwd);
  return new Context(repo, await loadConfig(repo.top, path.join(repo.gitDir, 'consortium')));
}
