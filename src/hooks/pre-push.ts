import { realpathSync } from 'node:fs';
import path from 'node:path';
import { blocking } from '../analysis/push.js';
import { type Context, openContext } from '../context/context.js';
import { agentEnvironment } from '../core/agent.js';
import { iso, now } from '../core/clock.js';
import { warn } from '../core/output.js';
import { matchesAny } from '../core/patterns.js';
import { remoteUrl } from '../git/config.js';
import { resolveCommit } from '../git/repo.js';
import { conflictJson } from '../render/json.js';

import {
  checkPush,
  gateReport,
  type OverrideUsed,
  type PushCheck,
  type PushTarget,
  type WayOut,
} from '../services/push-check.js';
import { authorFor, hostName, refreshSession } from '../services/sessions.js';

import { type Approval, takeApproval } from '../store/approvals.js';

import { addNote, mergeFetchedNotes } from '../store/notes.js';

import { LOCAL, NOTES_REF, sessionRef } from '../store/refs.js';

import { pushRefs } from '../store/remote.js';

/**
 * pre-push (SPEC section 7): the coordination gate. git gives `<remote> <url>` as arguments
 * and one `<local ref> <local sha> <remote ref> <remote sha>` line per pushed ref on stdin.
 * Exit 1 blocks the push. A push that goes ahead carries its provenance notes, the override
 * note when there is one, and the pushing session's record to the remote.
 */
const ZERO = /^0+$/;
const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
/** Commits that each get their own provenance note; a longer push notes its tip with the count. */
const MAX_NOTED = 50;

export async function run(args: string[]): Promise<number> {
  const [remote = '', url = ''] = args;
  const input = await readStdin();
  // The toolkit's own pushes carry only its refs, which the loop below skips as well.
  const ctx = await openContext();
  if (!pushesToConfiguredRemote(ctx, remote, url)) return 0;
  const targets: PushTarget[] = [];
  for (const line of input.split('\n')) {
    if (!line.trim()) continue;
    const [localRef, localSha, remoteRef, remoteSha, extra] = line.trim().split(/\s+/);
    if (
      !localRef ||
      !remoteRef ||
      !localSha ||
      !remoteSha ||
      extra ||
      !SHA.test(localSha) ||
      !SHA.test(remoteSha)
    ) {
      warn(
        `git-consortium: pre-push: ignored a line git would not write: ${JSON.stringify(line.slice(0, 120))}`,
      );
      continue;
    }
    if (ZERO.test(localSha)) continue; // a deletion
    // The toolkit's own refs (checked by the server's gate); anything else is work to check,
    // wherever it is pushed to (a branch pushed as refs/notes/x carries commits all the same).
    const ours = (ref: string) => ref.startsWith(LOCAL) || ref === NOTES_REF;
    if (ours(localRef) && ours(remoteRef)) continue;
    const tip = resolveCommit(ctx.repo, localSha);
    if (!tip) continue; // a tag of a tree or blob: no commits to check
    const known = ZERO.test(remoteSha) ? [] : [remoteSha];
    targets.push({
      ref: localRefName(ctx, localRef, remoteRef),
      tip,
      walk: ['--ignore-missing', tip, '--not', `--remotes=${ctx.config.remote}`, ...known],
    });
  }
  if (targets.length === 0) return 0;

  const check = await checkPush(ctx, targets, { fetch: true });
  const { override, way } = decideOverride(ctx, check);
  for (const line of gateReport(check, { override, way })) warn(line);
  if (check.blocked && !override) return 1;

  await record(ctx, check, override);
  return 0;
}

/**
 * Who may let a blocked push through (SPEC section 7). A person, with CONSORTIUM_OVERRIDE.
 * Under an agent (the push's environment, not the session's kind) policy.agentOverride
 * decides: `allow` as for a person, `ask` only with a person's approval for the session
 * (git consortium approve), `block` never.
 */
function decideOverride(ctx: Context, check: PushCheck): { override?: GateOverride; way: WayOut } {
  const reason = process.env.CONSORTIUM_OVERRIDE?.trim() || undefined;
  const agent = agentEnvironment();
  const recipe: WayOut = { kind: 'recipe', command: 'git push' };
  if (!check.blocked) return { way: recipe };
  if (!agent) return { override: reason ? { reason, actor: 'person' } : undefined, way: recipe };
  const policy = ctx.config.policy.agentOverride;
  if (policy === 'allow') return { override: reason ? { reason, actor: 'agent' } : undefined, way: recipe };
  const pushed = check.refs.find((r) => r.session) ?? check.refs[0];
  const session = pushed?.session?.id ?? null;
  const way: WayOut = {
    kind: 'person',
    agent: agent.name,
    policy,
    session,
    branch: pushed?.ref.replace(/^refs\/heads\//, '') ?? 'this branch',
  };
  if (policy === 'ask' && session) {
    const approval = takeApproval(ctx.repo, session, ctx.nowMs);
    if (approval)
      return {
        override: { reason: approval.reason, actor: 'agent', approvedBy: approval.by, approval },
        way,
      };
  }
  return { way };
}

type GateOverride = OverrideUsed & { approval?: Approval };

/** Notes (provenance, override) and the pushing session's record, sent along with the push. */
async function record(ctx: Context, check: PushCheck, override: GateOverride | undefined): Promise<void> {
  const researcher = check.refs.find((r) => r.researcher)?.researcher ?? 'unknown';
  const author = authorFor(ctx, researcher);
  // Our notes must contain the remote's before ours go on top, or pushing them would drop theirs.
  if (check.fetched) mergeFetchedNotes(ctx.repo, author);
  const at = iso(now());
  const refs: string[] = [];
  let noted = false;
  if (check.blocked && override) {
    const conflicts = blocking(check.conflicts).map(conflictJson);
    const agent = agentEnvironment();
    for (const ref of check.refs) {
      noted =
        addNote(
          ctx.repo,
          ref.tip,
          {
            type: 'override',
            at,
            by: ref.researcher ?? researcher,
            // A person or an agent, as the push's environment says; an agent's approver too.
            actor: override.actor,
            ...(agent && { agent: agent.name }),
            ...(override.approval && {
              approvedBy: override.approval.by,
              approval: { by: override.approval.by, user: override.approval.user, at: override.approval.at },
            }),
            session: ref.session?.id ?? null,
            ref: ref.ref,
            reason: override.reason,
            conflicts,
            offline: check.offline?.action === 'block' ? check.offline.detail : undefined,
          },
          author,
        ) || noted;
    }
  }
  for (const ref of check.refs) {
    const commits = ref.commits.slice(0, MAX_NOTED);
    for (const commit of commits) {
      const protocolFiles = commit.files.filter((f) => matchesAny(f, ctx.config.protocol));
      const entry = {
        type: 'provenance',
        at,
        session: ref.session?.id ?? null,
        researcher: ref.researcher ?? null,
        branch: ref.ref.replace(/^refs\/heads\//, ''),
        protocolFiles,
        ...(commit.sha === ref.tip && ref.commits.length > MAX_NOTED ? { commits: ref.commits.length } : {}),
      };
      noted = addNote(ctx.repo, commit.sha, entry, author) || noted;
    }
    if (ref.session && ref.session.host === hostName()) {
      refreshSession(ctx, ref.session, { force: true });
      refs.push(sessionRef(ref.session.id));
    }
  }
  if (noted) refs.push(NOTES_REF);
  // A remote that did not answer the fetch gets no second wait: the next sync shares them.
  if (check.offline) {
    if (refs.length)
      warn(
        `git-consortium: the session record and notes will reach ${ctx.config.remote} with the next sync.`,
      );
    return;
  }
  const pushed = await pushRefs(ctx.repo, ctx.config, [...new Set(refs)]);
  if (!pushed.outcome.ok && pushed.outcome.reason !== 'no-remote')
    warn(
      `git-consortium: the session record and notes will reach ${ctx.config.remote} with the next sync (${pushed.outcome.detail}).`,
    );
}

/** `git push origin HEAD` gives HEAD as the local ref: name the branch it stands for. */
function localRefName(ctx: Context, localRef: string, remoteRef: string): string {
  if (localRef.startsWith('refs/')) return localRef;
  if (localRef === 'HEAD' && ctx.branch) return `refs/heads/${ctx.branch}`;
  return remoteRef;
}

/** `git push origin` names the remote; `git push <url>` gives the url twice. */
function pushesToConfiguredRemote(ctx: Context, remote: string, url: string): boolean {
  if (remote === ctx.config.remote) return true;
  const configured = remoteUrl(ctx.repo, ctx.config.remote);
  if (!configured) return false;
  // The same remote spelled another way (file://, a trailing slash, ./, a relative path).
  const same = sameLocation(ctx.repo.top, configured);
  return same(url) || same(remote);
}

function sameLocation(top: string, configured: string): (other: string) => boolean {
  const local = (u: string) => {
    const p = u.replace(/^file:\/\//, '');
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p) || /^[^/]+:/.test(p)) return u.replace(/\/+$/, '');
    const full = path.resolve(top, p);
    try {
      return realpathSync(full);
    } catch {
      return full.replace(/\/+$/, '');
    }
  };
  const target = local(configured);
  return (other) => !!other && local(other) === target;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
