import { realpathSync } from 'node:fs';
import path from 'node:path';
import { type Context, openContext } from '../context/context.js';
import { colors, warn } from '../core/output.js';
import { phase, writePhases } from '../core/phases.js';
import { backgroundAllowed } from '../core/process.js';
import { withProgress } from '../core/progress.js';
import { readStdin, stdinIsTerminal } from '../core/stdio.js';
import { remoteUrl } from '../git/config.js';
import { tipsNotOnRemote } from '../git/history.js';
import { peelCommits } from '../git/repo.js';

import { gateReport } from '../render/gate.js';
import { refreshLineIndexDetached } from '../services/line-index.js';
import { checkPush, type PushTarget } from '../services/push-check.js';
import { decideOverride, recordOverride, recordPush, recordPushLater } from '../services/push-record.js';
import { LOCAL, NOTES_REF } from '../store/refs.js';

/**
 * pre-push (SPEC section 7): the coordination gate. git gives `<remote> <url>` as arguments
 * and one `<local ref> <local sha> <remote ref> <remote sha>` line per pushed ref on stdin.
 * Exit 1 blocks the push. A push that goes ahead carries its provenance notes, the override
 * note when there is one, and the pushing session's record to the remote.
 */
const ZERO = /^0+$/;
const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export async function run(args: string[]): Promise<number> {
  try {
    return await gate(args);
  } finally {
    writePhases('pre-push');
  }
}

async function gate(args: string[]): Promise<number> {
  const [remote = '', url = ''] = args;
  const input = stdinIsTerminal() ? '' : ((await readStdin()) ?? '');
  // The toolkit's own pushes carry only its refs, which the loop below skips as well.
  const ctx = await openContext();
  if (!pushesToConfiguredRemote(ctx, remote, url)) return 0;
  const targets: PushTarget[] = [];
  const pushed: { localRef: string; localSha: string; remoteRef: string; remoteSha: string }[] = [];
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
    // The toolkit's own refs cost nothing (the server's gate checks them). Anything else is work
    // to check, wherever it is pushed to (a branch pushed as refs/notes/x carries commits).
    const ours = (ref: string) => ref.startsWith(LOCAL) || ref === NOTES_REF;
    if (ours(localRef) && ours(remoteRef)) continue;
    pushed.push({ localRef, localSha, remoteRef, remoteSha });
  }
  // A branch holds a commit (git refuses anything else there); other refs may hold a tag to
  // peel, a tree or a blob: those are asked about, all in one git process.
  const isBranch = (p: { remoteRef: string }) => p.remoteRef.startsWith('refs/heads/');
  const peeled = peelCommits(ctx.repo, [
    ...new Set(pushed.filter((p) => !isBranch(p)).map((p) => p.localSha)),
  ]);
  const commits = new Map(pushed.map((p) => [p.localSha, isBranch(p) ? p.localSha : peeled.get(p.localSha)]));
  // Tags cost nothing when the remote holds their commits already; otherwise one tag per new
  // commit is checked, like a branch (a tag can carry work past the gate as well as a branch).
  const isTag = (p: { remoteRef: string }) => p.remoteRef.startsWith('refs/tags/');
  const tagTips = [
    ...new Set(
      pushed
        .filter(isTag)
        .map((p) => commits.get(p.localSha))
        .filter((t) => t !== undefined),
    ),
  ];
  const newTags = tipsNotOnRemote(ctx.repo, tagTips, ctx.config.remote);
  const checkedTag = new Set<string>();
  for (const { localRef, localSha, remoteRef, remoteSha } of pushed) {
    const tip = commits.get(localSha);
    if (!tip) continue; // a tree or blob pushed as a ref: no commits to check
    if (isTag({ remoteRef }) && (!newTags.has(tip) || checkedTag.has(tip))) continue;
    if (isTag({ remoteRef })) checkedTag.add(tip);
    const known = ZERO.test(remoteSha) ? [] : [remoteSha];
    targets.push({
      ref: localRefName(ctx, localRef, remoteRef),
      tip,
      commits: { tip, not: known, notOnRemote: ctx.config.remote, ignoreMissing: true },
      pushedTo: remoteRef,
    });
  }
  if (targets.length === 0) return 0;
  phase('start');

  const check = await withProgress('git-consortium: checking the push', (p) =>
    checkPush(ctx, targets, { fetch: true, waiting: (what) => p.now(what) }),
  );
  phase('check');
  const { override, way } = decideOverride(ctx, check);
  const words = {
    override,
    way,
    c: colors(false, 2),
    short: (id: string) => ctx.shortId(id),
    nowMs: ctx.nowMs,
  };
  for (const line of gateReport(check, words)) warn(line);
  // The fetch brought the others' newest records: their changed lines, for the edits to come,
  // come with the detached recorder of the push when there is one, else in a process of their own.
  const later = (override || !check.blocked) && backgroundAllowed();
  if (check.fetched && !later) await refreshLineIndexDetached(ctx, undefined, [], check.carried);
  phase('report');
  if (check.blocked && !override) return 1;

  // An override is on record and shared before git pushes; the rest is recorded while it pushes.
  const ahead = later && override ? await recordOverride(ctx, check, override) : undefined;
  if (later && override) phase('override');
  const late = later ? await recordPushLater(ctx, check) : await recordPush(ctx, check, override);
  phase('record');
  for (const message of new Set([ahead, late])) if (message) warn(`git-consortium: ${message}`);
  return 0;
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
