import type { Context } from '../context/context.js';
import { researcherOfBranch } from '../core/branches.js';
import { environmentError, usageError } from '../core/errors.js';
import { shown } from '../core/ids.js';
import { matchesAny } from '../core/patterns.js';
import { defaultBranch } from '../git/changes.js';
import { refExists } from '../git/refs.js';
import { resolveCommit } from '../git/repo.js';
import { type CiReport, levelOf, type ReportConflict, reportMarkdown } from '../render/ci-report.js';
import { conflictJson } from '../render/json.js';
import { gatesMermaid } from '../render/mermaid.js';
import { gatesView } from '../services/gates.js';
import { checkPush } from '../services/push-check.js';
import { coordinationView } from '../services/view.js';
import type { Session } from '../store/sessions.js';

export type { CiReport, Level } from '../render/ci-report.js';

/**
 * `ci report` (SPEC section 11): the coordination report of a pushed branch or pull request.
 * The branch's commits are met with the other live sessions by the pre-push gate's own
 * analysis (services/push-check.ts), so CI reports exactly what a push would meet.
 */
export const REPORT_FORMAT = 1;

export interface ReportOptions {
  base?: string;
  head?: string;
  /** Bring the coordination state from the remote first (bounded). */
  fetch: boolean;
  env?: NodeJS.ProcessEnv;
}

export async function buildReport(ctx: Context, options: ReportOptions): Promise<CiReport> {
  const env = options.env ?? process.env;
  const headArg = options.head ?? 'HEAD';
  const headCommit = resolveCommit(ctx.repo, headArg);
  if (!headCommit) throw usageError(`--head ${shown(headArg)} names no commit here.`);
  const base = baseOf(ctx, options.base, env);
  const branch = branchOf(ctx, options.head, env);
  const fromName = branch
    ? researcherOfBranch(branch, ctx.config.sessions.branchPrefix, ctx.researchers.keys())
    : undefined;
  const named = fromName !== undefined && ctx.researchers.has(fromName) ? fromName : undefined;

  // The gate decides whose push it is from the identity when no session record names the
  // branch; on a CI runner that identity is the branch's researcher.
  const check = await checkPush(
    ctx,
    [
      {
        ref: branch ? `refs/heads/${branch}` : headArg,
        tip: headCommit,
        commits: { tip: headCommit, not: [base.commit] },
      },
    ],
    { fetch: options.fetch, researcher: named },
  );
  const ref = check.refs[0]!;
  const session = ref.session ?? (branch ? newestOnBranch(ctx, branch) : undefined);
  const researcher = session?.researcher ?? named ?? ref.researcher ?? null;

  const conflicts: ReportConflict[] = check.conflicts.map(conflictJson);
  // Two live sessions in one worktree is not a push matter, but it is the branch's problem.
  if (session) {
    for (const c of coordinationView(ctx).conflicts) {
      if (c.kind !== 'worktree' || !c.sessions.includes(session.id)) continue;
      const byId = new Map(ctx.sessions().sessions.map((s) => [s.id, s]));
      conflicts.push({
        ...c,
        action: 'warn',
        with: c.sessions
          .filter((id) => id !== session.id)
          .map((id) => ({
            session: id,
            researcher: byId.get(id)?.researcher ?? 'unknown',
            branch: byId.get(id)?.branch ?? null,
          })),
      });
    }
  }

  const others = [...ctx.researchers.keys()].filter((id) => id !== researcher);
  const protocolFiles = ref.files
    .filter((f) => matchesAny(f, ctx.config.protocol))
    .map((path) => ({
      path,
      alsoChangedBy: conflicts
        .filter((c) => c.kind === 'protocol' && c.paths.includes(path))
        .flatMap((c) => c.with),
      affects: others,
    }));

  const gates = gatesView(ctx).gates;
  const report: Omit<CiReport, 'markdown'> = {
    format: REPORT_FORMAT,
    level: levelOf(conflicts),
    branch: branch ?? null,
    sessionBranch: named !== undefined,
    researcher,
    session: session
      ? {
          id: session.id,
          state: session.state,
          intent: session.intent,
          startedAt: session.startedAt,
          heartbeatAt: session.heartbeatAt,
        }
      : null,
    base: { ref: base.ref, commit: base.commit },
    head: { ref: headArg, commit: headCommit },
    commits: ref.commits.length,
    files: ref.files,
    protocolFiles,
    conflicts,
    offline: check.offline ? check.offline.detail : null,
    gates: { mermaid: gates.length ? gatesMermaid(gates) : null },
  };
  return { ...report, markdown: reportMarkdown(report, ctx) };
}

/**
 * What to compare with: --base, else the pull request's base branch (GITHUB_BASE_REF), else
 * the default branch.
 */
function baseOf(
  ctx: Context,
  given: string | undefined,
  env: NodeJS.ProcessEnv,
): { ref: string; commit: string } {
  if (given !== undefined) {
    const commit = resolveCommit(ctx.repo, given);
    if (!commit) throw usageError(`--base ${shown(given)} names no commit here.`);
    return { ref: given, commit };
  }
  const prBase = env.GITHUB_BASE_REF;
  if (prBase) {
    for (const ref of [`refs/remotes/${ctx.config.remote}/${prBase}`, `refs/heads/${prBase}`]) {
      const commit = resolveCommit(ctx.repo, ref);
      if (commit) return { ref, commit };
    }
  }
  const fallback = defaultBranch(ctx.repo, ctx.config);
  const commit = fallback.ref ? resolveCommit(ctx.repo, fallback.ref) : undefined;
  if (!fallback.ref || !commit) {
    throw environmentError(
      `Cannot find the default branch ${fallback.name} here to compare with: fetch it (actions/checkout with fetch-depth: 0) or give --base REF.`,
    );
  }
  return { ref: fallback.ref, commit };
}

/**
 * The branch being reported: the pull request's head branch, else the pushed branch, else
 * the branch --head names, else the one checked out.
 */
function branchOf(ctx: Context, head: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (head === undefined || head === 'HEAD') {
    if (env.GITHUB_HEAD_REF) return env.GITHUB_HEAD_REF;
    if (env.GITHUB_REF?.startsWith('refs/heads/')) return env.GITHUB_REF.slice('refs/heads/'.length);
    return ctx.branch;
  }
  const remote = `refs/remotes/${ctx.config.remote}/`;
  for (const prefix of ['refs/heads/', remote, `${ctx.config.remote}/`]) {
    if (head.startsWith(prefix)) return head.slice(prefix.length);
  }
  const isBranch = refExists(ctx.repo, `refs/heads/${head}`) || refExists(ctx.repo, `${remote}${head}`);
  return isBranch ? head : undefined;
}

/** The newest session record of a branch, whatever its state (ended and merged ones too). */
function newestOnBranch(ctx: Context, branch: string): Session | undefined {
  return ctx
    .sessions()
    .sessions.filter((s) => s.branch === branch)
    .sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1))[0];
}

/**
 * Workflow annotations (`::warning file=...::`) for the conflicted files, one per file and
 * conflict, or per range of lines where a merge conflict names them (shown on those lines of
 * the pull request's diff).
 */
export function annotations(report: Pick<CiReport, 'conflicts'>): string[] {
  const lines: string[] = [];
  for (const c of report.conflicts) {
    if (c.kind === 'worktree') continue;
    const title = `title=${property(`${c.kind} conflict (${c.severity})`)}`;
    for (const file of c.paths) {
      const ranges = c.lines?.[file]?.length ? c.lines[file]! : [undefined];
      for (const range of ranges) {
        const at = range ? `,line=${range[0]},endLine=${range[1]}` : '';
        lines.push(`::warning file=${property(file)}${at},${title}::${data(c.message)}`);
      }
    }
  }
  return lines;
}

// Escaping of workflow commands, as the runner unescapes them.
const data = (text: string) => text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const property = (text: string) => data(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
