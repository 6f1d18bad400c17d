/**
 * Whether a process runs under an AI agent, judged by its environment alone (SPEC section 7):
 * Claude Code sets CLAUDECODE=1 for the commands its Bash tool runs, and AI_AGENT
 * (`claude-code_<version>_agent`, the cross-tool convention) for them and its hooks. A person
 * in their own terminal has neither, even in a worktree where an agent works, so the kind of a
 * session never decides this: the environment of the command does.
 */
export interface AgentEnvironment {
  /** What the environment says, for records and messages: `claude-code_2-1-332_agent`. */
  name: string;
}

export function agentEnvironment(env: NodeJS.ProcessEnv = process.env): AgentEnvironment | undefined {
  const agent = env.AI_AGENT?.trim();
  if (agent) return { name: agent.slice(0, 80) };
  const claude = env.CLAUDECODE?.trim();
  if (claude && claude !== '0') return { name: 'claude-code' };
  return undefined;
}

/**
 * Whether a person can answer a question asked through the agent now. Claude Code sets
 * CLAUDE_CODE_SESSION_ATTENDED=0 when it runs headless (`-p`), where an `ask` is a denial.
 */
export function personAttends(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CLAUDE_CODE_SESSION_ATTENDED !== '0';
}
