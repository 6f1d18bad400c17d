import { environmentError } from '../core/errors.js';
import { localStateFile, readJson, writeJson } from '../core/local-state.js';
import type { Repo } from '../git/repo.js';

/**
 * A person's approval for an agent's session to push past the gate once (policy.agentOverride
 * `ask`). Local to the clone, where the person and their agent work: the gate of the agent's
 * next blocked push uses it up, and the override note it writes records who approved and why.
 */
export interface Approval {
  session: string;
  /** The researcher who approved, and the OS user at the terminal. */
  by: string;
  user: string;
  reason: string;
  at: string;
  expiresAt: string;
}

const FILE = 'approvals.json';

export function listApprovals(repo: Repo): Approval[] {
  const all = readJson<{ approvals?: Approval[] }>(localStateFile(repo.commonDir, FILE))?.approvals;
  return Array.isArray(all) ? all : [];
}

export function addApproval(repo: Repo, approval: Approval): void {
  const kept = listApprovals(repo).filter((a) => a.session !== approval.session);
  if (!writeJson(localStateFile(repo.commonDir, FILE), { approvals: [...kept, approval] }))
    throw environmentError(
      `The approval could not be written to ${localStateFile(repo.commonDir, FILE)}: nothing was approved.`,
    );
}

/** Takes the session's approval that still holds at `nowMs`, removing it (and expired ones). */
export function takeApproval(repo: Repo, session: string, nowMs: number): Approval | undefined {
  const all = listApprovals(repo);
  const holds = (a: Approval) => Date.parse(a.expiresAt) > nowMs;
  const found = all.find((a) => a.session === session && holds(a));
  const left = all.filter((a) => a !== found && holds(a));
  if (found || left.length !== all.length)
    writeJson(localStateFile(repo.commonDir, FILE), { approvals: left });
  return found;
}
