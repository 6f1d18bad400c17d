import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs the toolkit's own CLI in a child process, within a time limit. `mcp sync` uses it for
 * the git `sync` and the emergency `checkpoint`, so that a crash, a hang or a broken
 * repository in either is an outcome to report, never the end of `mcp sync` itself; the MCP
 * server uses it for the commands that have no service of their own to call.
 */
export const CLI_PATH = fileURLToPath(
  // From src/ (tests through tsx) the toolkit to run is still the built one.
  import.meta.url.endsWith('.ts')
    ? new URL('../../dist/cli.js', import.meta.url)
    : new URL('../cli.js', import.meta.url),
);

export interface ToolkitResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export function runToolkit(
  args: string[],
  options: { cwd: string; timeoutMs: number; input?: string; env?: NodeJS.ProcessEnv },
): Promise<ToolkitResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr || error.message, timedOut });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, timedOut });
    });
  });
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
