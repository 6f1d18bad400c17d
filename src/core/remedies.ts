/**
 * What someone refused can do next, as data. Services return remedies with their facts; each
 * entry point words them for its caller (render/remedies.ts), so a person at a terminal, an
 * agent in Claude Code and an MCP client each read the way out in their own interface, and an
 * agent is never shown a way that is a person's decision.
 */
export type Remedy =
  /** Wait until the lease ends by itself. */
  | { kind: 'wait-for-expiry' }
  /** The holders release it from their session. */
  | { kind: 'ask-to-release'; researchers: string[]; pattern: string }
  /** A person may break it: recorded with who, when and why. */
  | { kind: 'break-lease' }
  /** Meanwhile, work on something else. */
  | { kind: 'work-elsewhere' }
  /** Agree on one change with the researchers named, before changing it. */
  | { kind: 'agree'; researchers: string[]; because: 'protocol' | 'workspace' | 'lines' }
  /** Keep the change away from the lines named (`lines 38-47`). */
  | { kind: 'keep-outside'; lines: string }
  /** Take a lease on the file, so that nobody changes it meanwhile. */
  | { kind: 'take-lease'; pattern: string }
  /** The decision belongs to a person: stop and ask one. */
  | { kind: 'ask-person' };

/** Who reads a remedy, and through what: that decides its words and whether it is shown at all. */
export interface Caller {
  actor: 'person' | 'agent';
  via: 'cli' | 'mcp';
}

/** A person's decisions, which an agent is not shown (SPEC section 7: it would take them). */
export const forPersonOnly = (r: Remedy): boolean => r.kind === 'break-lease';
