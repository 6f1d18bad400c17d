import path from 'node:path';
import { ServerContext, serverConfig } from '../context/server-context.js';
import { colors, warn } from '../core/output.js';
import { readStdin, stdinIsTerminal } from '../core/stdio.js';
import { openBareRepo } from '../git/repo.js';
import { GitDeadline, setGitDeadline } from '../git/run.js';
import { gateReport } from '../render/gate.js';
import { parseUpdates } from '../services/coordination-guard.js';
import { judgePush } from '../services/server-gate.js';
import { lastOnError, writeAllowedSigners, writeOnError } from '../services/server-install.js';

/**
 * pre-receive on the server (SPEC section 13): git gives one `<old> <new> <ref>` line per ref
 * on stdin, and any exit but 0 refuses the whole push; what this prints reaches the pusher as
 * `remote:` lines, so every line says the server's gate speaks. The whole check is bounded
 * (every git it starts is given what is left of the time); a crash or time-out is decided by
 * server.onError, refuse unless the configuration says allow.
 */
export const SPEAKER = 'git-consortium server';

const limitMs = () => Number(process.env.CONSORTIUM_SERVER_TIMEOUT_MS) || 10_000;

export async function run(_args: string[], cwd = process.cwd()): Promise<number> {
  const updates = parseUpdates(stdinIsTerminal() ? '' : ((await readStdin()) ?? ''));
  if (updates.length === 0) return 0;
  const limit = limitMs();
  const outOfTime = `it took longer than ${limit / 1000}s`;
  setGitDeadline(Date.now() + limit);
  // Until the configuration is read, as it was last read (a time-out may come first).
  let onError = lastOnError(path.resolve(cwd, process.env.GIT_DIR ?? '.'));
  // A check stuck outside git (no process of its own to kill) is stopped here.
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(failed(onError, outOfTime)), limit + 500);
  });
  const judged = (async () => {
    const repo = openBareRepo(cwd);
    const server = await serverConfig(repo);
    onError = server.config.server.onError;
    writeOnError(repo, server.config);
    if (server.config.server.identity === 'signed') writeAllowedSigners(repo, server.config);
    if (server.problem)
      warn(
        `${SPEAKER}: warning: the configuration does not read (${server.problem}); checked with the defaults.`,
      );
    const ctx = new ServerContext(repo, server);
    const verdict = await judgePush(ctx, updates);
    for (const r of verdict.refusals) warn(`${SPEAKER}: refused ${r.ref} (rule: ${r.rule}): ${r.message}`);
    if (verdict.refusals.length) return 1;
    const check = verdict.check;
    if (verdict.override && !check?.blocked)
      warn(
        `${SPEAKER}: the configuration changes as a person's decision, recorded: ${JSON.stringify(verdict.override.reason)}.`,
      );
    if (!check) return 0;
    if (check.offline?.kind === 'budget') throw new GitDeadline(check.offline.detail);
    const lines = gateReport(check, {
      override: verdict.override && { reason: verdict.override.reason, actor: 'person' },
      way: { kind: 'server' },
      c: colors(false, 2),
      short: (id) => ctx.shortId(id),
      nowMs: ctx.nowMs,
      speaker: SPEAKER,
    });
    for (const line of lines) warn(line);
    const { pusher } = verdict;
    if (check.blocked && !verdict.override && pusher.known && !pusher.researcher)
      warn(
        `${SPEAKER}: this server does not know the pusher as a researcher (${pusher.detail}): such a push is nobody's session, and overrides nothing.`,
      );
    return check.blocked && !verdict.override ? 1 : 0;
  })();
  try {
    return await Promise.race([stuck, judged]);
  } catch (error) {
    return failed(
      onError,
      error instanceof GitDeadline ? outOfTime : `it failed: ${(error as Error).message}`,
    );
  } finally {
    clearTimeout(timer);
    setGitDeadline(undefined);
  }
}

function failed(onError: 'refuse' | 'allow', reason: string): number {
  const then =
    onError === 'allow'
      ? 'server.onError is allow, so the push goes ahead unchecked.'
      : 'server.onError is refuse, so the push is refused.';
  warn(`${SPEAKER}: the gate could not check this push: ${reason}; ${then}`);
  warn(
    `${SPEAKER}: the server's administrator can see why with: git consortium server doctor --repo <this repository>`,
  );
  return onError === 'allow' ? 0 : 1;
}
