import path from 'node:path';
import { now } from '../core/clock.js';
import { type Config, checkGateOwners, type Researcher } from '../core/config.js';
import { shortIds } from '../core/ids.js';
import { loadConfig } from '../core/load-config.js';
import { writeTo } from '../core/stdio.js';
import { researchersOf } from '../core/workspaces.js';
import { configMatchingKept } from '../git/config-cache.js';
import { currentBranch, openRepo, type Repo } from '../git/repo.js';
import { knowSshSettings } from '../git/run.js';
import { listSessions, type SessionList } from '../store/sessions.js';

/**
 * Everything a command needs to know about where it runs: the repository, its configuration,
 * the researchers, the sessions (read once, on first use), and the time.
 */
export class Context {
  private sessionList?: SessionList;
  private researcherMap?: Map<string, Researcher>;
  readonly nowMs = now().getTime();
  /** `--researcher` as given to the command: who the caller says they are. */
  researcherFlag?: string;

  constructor(
    readonly repo: Repo,
    readonly config: Config,
  ) {}

  get researchers(): Map<string, Researcher> {
    this.researcherMap ??= researchersOf(this.config, this.repo.top);
    return this.researcherMap;
  }

  private settings?: Map<string, string>;

  /**
   * A git config value this toolkit reads (user.email, core.hooksPath, consortium.*): all come from one
   * git process, on first use, since hooks pay for every process.
   */
  gitConfig(
    key: 'user.email' | 'core.hooksPath' | 'core.sshCommand' | 'ssh.variant' | `consortium.${string}`,
  ): string | undefined {
    this.settings ??= configMatchingKept(this.repo, SETTINGS);
    return this.settings.get(key.toLowerCase()) || undefined;
  }

  /** The email git writes commits with here (its environment first, as git does). */
  get userEmail(): string | undefined {
    return process.env.GIT_AUTHOR_EMAIL || this.gitConfig('user.email') || process.env.EMAIL || undefined;
  }

  get branch(): string | undefined {
    return currentBranch(this.repo);
  }

  /** All sessions; problems with unreadable records go to stderr once. */
  sessions(): SessionList {
    if (!this.sessionList) {
      this.sessionList = listSessions(this.repo);
      for (const problem of this.sessionList.problems) writeTo(2, `warning: ${problem}\n`);
    }
    return this.sessionList;
  }

  /** A session id as text for people shows it: its shortest unique suffix among the sessions known here. */
  shortId(id: string): string {
    this.shortIdMap ??= shortIds(this.sessions().sessions.map((s) => s.id));
    return this.shortIdMap.get(id) ?? shortIds([id, ...this.shortIdMap.keys()]).get(id)!;
  }

  private shortIdMap?: Map<string, string>;

  /** Forget the cached sessions after a write. */
  invalidate(): void {
    this.sessionList = undefined;
    this.shortIdMap = undefined;
  }
}

export async function openContext(
  cwd = process.cwd(),
  options: { researcher?: string } = {},
): Promise<Context> {
  const repo = openRepo(cwd);
  const ctx = new Context(repo, await loadConfig(repo.top, path.join(repo.gitDir, 'consortium')));
  ctx.researcherFlag = options.researcher;
  // What a network call of this command needs to know of ssh, from the same reading as the rest.
  knowSshSettings(repo.top, () => ({
    sshCommand: ctx.gitConfig('core.sshCommand'),
    variant: ctx.gitConfig('ssh.variant'),
  }));
  if (!ctx.config.researchersListed && ctx.config.gates.size) checkGateOwners(ctx.config, ctx.researchers);
  return ctx;
}

/** Every git config key the toolkit reads through a context, in one reading. */
const SETTINGS = '^(user\\.email|core\\.hookspath|core\\.sshcommand|ssh\\.variant|consortium\\..*)$';
