import type { Repo } from './repo.js';
import { refGeneration } from './run.js';

/**
 * Answers to questions that only read the repository (its coordination refs, its default
 * branch, the files between two commits), kept for the command that holds `repo` until a git
 * command that may move a ref runs (git/run.ts counts those). A hook asks some of them twice on
 * its way (the gate, then the session it refreshes) and pays for one git process.
 */
const memos = new WeakMap<Repo, { generation: number; answers: Map<string, unknown> }>();

export function remembered<T>(repo: Repo, question: string, ask: () => T): T {
  let memo = memos.get(repo);
  if (memo?.generation !== refGeneration()) {
    memo = { generation: refGeneration(), answers: new Map() };
    memos.set(repo, memo);
  }
  if (memo.answers.has(question)) return memo.answers.get(question) as T;
  const answer = ask();
  // Asking may itself have run git that moves refs: such an answer is not kept.
  if (memo.generation === refGeneration()) memo.answers.set(question, answer);
  return answer;
}

/**
 * After a write of our own (git/refs.ts), what was known stays known, patched by `patch`
 * (undefined forgets an answer), rather than read again: so a ref just written is never read
 * back. Only when that write is the one git command since the answers were taken; after any
 * other, everything is asked afresh.
 */
export function carryOver(repo: Repo, patch: (question: string, answer: unknown) => unknown): void {
  const memo = memos.get(repo);
  if (!memo || memo.generation !== refGeneration() - 1) return;
  const answers = new Map<string, unknown>();
  for (const [question, answer] of memo.answers) {
    const next = patch(question, answer);
    if (next !== undefined) answers.set(question, next);
  }
  memos.set(repo, { generation: refGeneration(), answers });
}
