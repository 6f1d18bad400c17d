import path from 'node:path';
import { workOfSession } from '../analysis/conflicts.js';
import { leasesBlocking } from '../analysis/leases.js';
import { ownerOf } from '../analysis/push.js';
import { isLive } from '../analysis/state.js';
import type { Context } from '../context/context.js';
import { resolveIdentity } from '../context/identity.js';
import type { PolicyAction } from '../core/config.js';
import { usageError } from '../core/errors.js';
import { shown } from '../core/ids.js';
import { fromTop, realFile } from '../core/paths.js';
import { matchesAny } from '../core/patterns.js';
import type { Remedy } from '../core/remedies.js';
import { defaultBranch, mergeBase, unpushedCommits, worktreeChangedFiles } from '../git/changes.js';
import { clearOf, lineFacts } from '../render/lines.js';
import type { Session } from '../store/sessions.js';
import { currentLeases } from './leases.js';
import { type LineMeeting, lineMeetings, type MyLines } from './line-check.js';

/**
 * May this path be edited now, by this session? What an agent asks before it writes, through
 * the MCP server or Claude Code's PreToolUse hook alike: a lease of another session stands in
 * the way (as `policy.lease` says), and protocol files that other live sessions changed, or
 * another researcher's workspace, call for care (as `policy.protocol` and `policy.foreign` say).
 * It reads leases and live sessions only: the merge prediction of the whole coordination view
 * would run on every edit.
 */
export interface EditReason {
  kind: 'lease' | 'protocol' | 'foreign' | 'lines';
  action: Exclude<PolicyAction, 'off'>;
  sessions: string[];
  researchers: string[];
  /** What stands in the way; the caller words the remedies after it (render/remedies.ts). */
  facts: string;
  remedies: Remedy[];
  /** For `lines`: the other sessions' changes the edit meets. */
  meetings?: LineMeeting[];
}

/** The lines an edit replaces, told from the file's text as it is now (line-check.ts MyLines). */
export type EditLines = Exclude<MyLines, 'changes'>;

export interface EditVerdict {
  path: string;
  /** `deny`: a policy set to block stands in the way; `warn`: allowed, with care. */
  decision: 'allow' | 'warn' | 'deny';
  allowed: boolean;
  session: string | null;
  researcher: string | null;
  reasons: EditReason[];
}

/**
 * A path as the coordination names it: from the top of the repository, with forward slashes.
 * A relative path is read from `base` (the MCP server reads it from the top, as status shows).
 */
export function repoPath(ctx: Context, file: string, base: string = ctx.repo.cwd): string {
  if (!file || /\0/.test(file)) throw usageError('Give the path of a file in the repository.');
  const relative = fromTop(ctx.repo.top, realFile(path.resolve(base, file)));
  if (!relative) throw usageError(`${shown(file)} is not inside the repository ${ctx.repo.top}.`);
  return relative;
}

/**
 * `target` is a path from the top of the repository; `mine` the session that would edit it;
 * `lines`, when known, the lines the edit replaces (met with other sessions' changed lines).
 */
export function editVerdict(
  ctx: Context,
  target: string,
  mine: Session | undefined,
  lines?: EditLines,
): EditVerdict {
  const me = mine?.researcher ?? identityOrNull(ctx);
  const reasons: EditReason[] = [];
  const { policy } = ctx.config;

  if (policy.lease !== 'off') {
    for (const lease of leasesBlocking(currentLeases(ctx), target, mine?.id)) {
      reasons.push({
        kind: 'lease',
        action: policy.lease,
        sessions: [lease.session],
        researchers: [lease.researcher],
        facts:
          `${target} is leased by ${lease.researcher} (session ${lease.session}, pattern ${lease.pattern}) until ${lease.expiresAt}` +
          `${lease.reason ? `: ${lease.reason}` : ''}.`,
        remedies: [
          { kind: 'ask-to-release', researchers: [lease.researcher], pattern: lease.pattern },
          { kind: 'wait-for-expiry' },
          { kind: 'work-elsewhere' },
        ],
      });
    }
  }
  if (policy.protocol !== 'off' && matchesAny(target, ctx.config.protocol)) {
    const others = ctx
      .sessions()
      .sessions.filter(
        (s) =>
          isLive(s, ctx.nowMs, ctx.config.sessions.staleAfterMs) &&
          s.id !== mine?.id &&
          s.researcher !== me &&
          workOfSession(s).includes(target),
      );
    if (others.length) {
      reasons.push({
        kind: 'protocol',
        action: 'warn',
        sessions: others.map((s) => s.id),
        researchers: [...new Set(others.map((s) => s.researcher))],
        facts: `${target} is a protocol file that ${others.map((s) => `${s.researcher} (session ${s.id}, branch ${s.branch ?? 'detached'})`).join(', ')} also changed, and every researcher depends on it.`,
        remedies: [
          { kind: 'agree', researchers: [...new Set(others.map((s) => s.researcher))], because: 'protocol' },
        ],
      });
    }
  }
  const owner = ownerOf(ctx.researchers, target);
  if (policy.foreign !== 'off' && owner && me && owner !== me) {
    reasons.push({
      kind: 'foreign',
      action: 'warn',
      sessions: [],
      researchers: [owner],
      facts: `${target} is in the workspace or owned paths of ${named(ctx, owner)}, not of ${me}.`,
      remedies: [{ kind: 'agree', researchers: [owner], because: 'workspace' }],
    });
  }
  if (lines && policy.lines !== 'off') {
    const meetings = lineMeetings(ctx, target, lines, mine);
    if (meetings.length) reasons.push(linesReason(target, meetings, policy.lines));
  }
  const decision = reasons.some((r) => r.action === 'block') ? 'deny' : reasons.length ? 'warn' : 'allow';
  return {
    path: target,
    decision,
    allowed: decision !== 'deny',
    session: mine?.id ?? null,
    researcher: me,
    reasons,
  };
}

function linesReason(
  target: string,
  meetings: LineMeeting[],
  action: Exclude<PolicyAction, 'off'>,
): EditReason {
  const researchers = [...new Set(meetings.map((m) => m.researcher))];
  return {
    kind: 'lines',
    action,
    sessions: [...new Set(meetings.map((m) => m.session))],
    researchers,
    facts: lineFacts(
      target,
      meetings.flatMap((m) => m.mine),
      meetings,
    ),
    remedies: [
      { kind: 'agree', researchers, because: 'lines' },
      ...(meetings.every((m) => m.status === 'modified' || m.status === 'renamed')
        ? [{ kind: 'keep-outside' as const, lines: clearOf(meetings) }]
        : []),
      { kind: 'take-lease', pattern: target },
    ],
    meetings,
  };
}

/** Who is asking, when no session says so; an identity that cannot be told is no identity. */
function identityOrNull(ctx: Context): string | null {
  try {
    return resolveIdentity(ctx)?.id ?? null;
  } catch {
    return null;
  }
}

const named = (ctx: Context, id: string) => {
  const name = ctx.researchers.get(id)?.name;
  return name ? `${name} (${id})` : id;
};

/** A write of a command, to a path another session leases (under policy.lease block). */
export interface LeasedWrite {
  /** From the top of the repository. */
  path: string;
  how: string;
  reason: EditReason;
}

/**
 * The writes of a command (absolute paths) that meet a lease of another session and a policy
 * that blocks: what the Claude Code hook denies before a Bash command runs.
 */
export function leasedWrites(
  ctx: Context,
  writes: { path: string; how: string }[],
  mine: Session | undefined,
): LeasedWrite[] {
  if (ctx.config.policy.lease !== 'block' || writes.length === 0) return [];
  const found: LeasedWrite[] = [];
  for (const write of writes) {
    const relative = fromTop(ctx.repo.top, realFile(write.path));
    if (relative === undefined) continue;
    // Removing, moving or checking out a folder writes every leased file below it.
    const targets = FOLDER_WRITERS.test(write.how)
      ? [relative === '' ? '**' : relative, ...(relative === '' ? [] : [`${relative}/**`])]
      : [relative];
    const seen = new Set<string>();
    for (const target of targets)
      for (const reason of editVerdict(ctx, target, mine).reasons)
        if (reason.kind === 'lease' && reason.action === 'block' && !seen.has(reason.facts)) {
          seen.add(reason.facts);
          found.push({ path: relative || '.', how: write.how, reason });
        }
  }
  return found;
}

const FOLDER_WRITERS = /^(rm|mv|cp|git checkout|git restore|git rm|git mv)$/;

/**
 * Files an agent never writes, whatever the leases: the configuration (it decides what agents
 * may do) and git's own files. The reason, or undefined for any other path.
 */
export function protectedPath(ctx: Context, relative: string): string | undefined {
  if (relative === '.git' || relative.startsWith('.git/'))
    return `${relative} is one of git's own files (refs, hooks, configuration, the toolkit's state): an agent does not change it. Ask a person.`;
  if (ctx.config.file && relative === ctx.config.file)
    return `${relative} is the consortium's configuration, which decides what agents may do: a person changes it. Ask a person, and say what you would change.`;
  return undefined;
}

/**
 * The commit a leased file is restored from: the merge base of this worktree's HEAD with the
 * default branch, as the branch's changes are counted. Undefined without one.
 */
export function restoreSource(ctx: Context): string | undefined {
  const target = defaultBranch(ctx.repo, ctx.config).ref;
  return target ? mergeBase(ctx.repo, 'HEAD', target) : undefined;
}

/** A file of the worktree, changed against the restore source, that another session leases. */
export interface LeasedChange {
  path: string;
  /** The file is new since the restore source: putting it back means removing it. */
  added: boolean;
  /** The worktree's file differs from the restore source (else only commits changed it). */
  differs: boolean;
  /** Unpushed commits change it: the gate counts each commit, so they must be rewritten. */
  committed: boolean;
  researcher: string;
  session: string;
  pattern: string;
  expiresAt: string;
}

export interface LeasedChanges {
  base?: string;
  /** The commit before the oldest unpushed one, when unpushed commits change a leased file. */
  lastPushed?: string;
  changes: LeasedChange[];
}

/**
 * After a command ran (Claude Code's PostToolUse on Bash): the files of this worktree that
 * another session leases and that a push would carry, by the gate's own rule: changed in the
 * working tree against the restore source, or by any unpushed commit. Nothing is read when no
 * other session holds a lease; git looks only at the leased patterns.
 */
export function leasedChanges(ctx: Context, mine: Session | undefined): LeasedChanges {
  if (ctx.config.policy.lease === 'off') return { changes: [] };
  const theirs = currentLeases(ctx).filter((l) => l.session !== mine?.id);
  if (theirs.length === 0) return { changes: [] };
  const base = restoreSource(ctx);
  if (!base) return { changes: [] };
  // git's glob magic reads ** and * as minimatch does; braces it does not know: look at all then.
  const patterns = theirs.map((l) => l.pattern);
  const pathspecs = patterns.some((p) => /[{}]/.test(p)) ? [] : patterns.map((p) => `:(glob)${p}`);
  const differing = new Map(worktreeChangedFiles(ctx.repo, base, pathspecs).map((f) => [f.path, f.added]));
  const unpushed = unpushedCommits(ctx.repo, ctx.config.remote, pathspecs);
  const committed = new Set(unpushed.flatMap((c) => c.files));
  const changes: LeasedChange[] = [];
  for (const file of [...new Set([...differing.keys(), ...committed])].sort())
    for (const lease of leasesBlocking(theirs, file, mine?.id))
      changes.push({
        path: file,
        added: differing.get(file) ?? false,
        differs: differing.has(file),
        committed: committed.has(file),
        researcher: lease.researcher,
        session: lease.session,
        pattern: lease.pattern,
        expiresAt: lease.expiresAt,
      });
  if (!changes.some((c) => c.committed)) return { base, changes };
  const oldest = unpushedCommits(ctx.repo, ctx.config.remote).at(-1);
  return { base, lastPushed: oldest?.parent ?? undefined, changes };
}
