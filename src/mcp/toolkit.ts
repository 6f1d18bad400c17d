import { CLI_PATH, runBounded } from '../core/process.js';

/**
 * Runs the toolkit's own CLI in a child process, within a time limit. `mcp sync` uses it for
 * the git `sync` and the emergency `checkpoint`, so that a crash, a hang or a broken
 * repository in either is an outcome to report, never the end of `mcp sync` itself; the MCP
 * server uses it for the commands that have no service of their own to call.
 */
export interface ToolkitResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export async function runToolkit(
  args: string[],
  options: { cwd: string; timeoutMs: number; input?: string; env?: NodeJS.ProcessEnv },
): Promise<ToolkitResult> {
  const r = await runBounded(process.execPath, [CLI_PATH, ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    input: options.input ?? '',
    timeoutMs: options.timeoutMs,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut };
}

/** The first line of what a failed command said on stderr, without our own prefix. */
export function firstError(result: ToolkitResult): string {
  if (result.timedOut) return 'it did not finish in time and was stopped';
  const line = result.stderr
    .split('\n')
    .map((l) => l.replace(/^git-consortium:\s*/, '').trim())
    .find((l) => l && !l.startsWith('warning:'));
  return line ?? `it exited with code ${result.code}`;
}
