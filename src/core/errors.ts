import type { Remedy } from './remedies.js';
/**
 * Errors that reach the user. Each carries the exit code of SPEC section 6, and a message
 * written for the person who hit it: the CLI prints it as it is, never with a stack trace.
 */
export const EXIT = { ok: 0, refused: 1, usage: 2, environment: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class ConsortiumError extends Error {
  /**
   * `message` states the facts; `remedies` (a refusal's ways out, as data) are worded after it
   * by the entry point, for its caller (render/remedies.ts).
   */
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly remedies: readonly Remedy[] = [],
  ) {
    super(message);
    this.name = 'ConsortiumError';
  }
}

/** Bad usage, configuration or input: exit 2. */
export const usageError = (message: string) => new ConsortiumError(message, EXIT.usage);
/** Refused by the state of the coordination: exit 1. */
export const refusal = (message: string, remedies: readonly Remedy[] = []) =>
  new ConsortiumError(message, EXIT.refused, remedies);
/** Not a repository, git too old, remote unreachable when needed: exit 3. */
export const environmentError = (message: string) => new ConsortiumError(message, EXIT.environment);
