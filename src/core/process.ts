import { childProcess } from './lazy-modules.js';
import { packageFile } from './package-files.js';

/**
 * Child processes that must never hang us: each runs in its own process group, and on time-out
 * the whole group is killed (git-remote-http, ssh or an MCP server's children outlive a killed
 * parent otherwise).
 */
export interface BoundedResult {
  status: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface BoundedOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs: number;
}

export function runBounded(command: string, args: string[], options: BoundedOptions): Promise<BoundedResult> {
  return new Promise((resolve) => {
    const child = childProcess().spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    if (options.input !== undefined) {
      child.stdin!.on('error', () => {});
      child.stdin!.end(options.input);
    }
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      // A helper that left the group (a daemon of its own) may hold the output open for
      // minutes: once the child itself has gone, what was read is the answer.
      const done = () =>
        setTimeout(() => {
          child.stdout!.destroy();
          child.stderr!.destroy();
          resolve({ status: 128, stdout, stderr, timedOut });
        }, 200);
      if (child.exitCode !== null || child.signalCode !== null) done();
      else child.once('exit', done);
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ status: 127, stdout, stderr: stderr || error.message, timedOut });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ status: code ?? (signal ? 128 : 1), stdout, stderr, timedOut });
    });
  });
}

/** The toolkit's own CLI; from src/ (tests through tsx) it is still the built one in dist/. */
export const CLI_PATH = packageFile('dist', 'cli.cjs');

/**
 * Runs the toolkit's CLI in a detached process whose output goes nowhere, for work nobody
 * waits on (sharing refs, recording a push). CONSORTIUM_NO_BACKGROUND=1 (the tests, the demo)
 * says there is to be none: the caller then does the work itself.
 */
export const backgroundAllowed = () => process.env.CONSORTIUM_NO_BACKGROUND !== '1';

export function runDetached(args: string[], cwd: string): void {
  const env: NodeJS.ProcessEnv = { ...process.env, CONSORTIUM_BACKGROUND: '1' };
  // Its work is git's, never a TLS connection of Node's: it starts without reading the user's
  // extra certificates (about 50 ms), and gives them back to git (cli.cts).
  if (env.NODE_EXTRA_CA_CERTS) {
    env.CONSORTIUM_NODE_EXTRA_CA_CERTS = env.NODE_EXTRA_CA_CERTS;
    env.NODE_EXTRA_CA_CERTS = '';
  }
  const child = childProcess().spawn(process.execPath, [CLI_PATH, ...args], {
    cwd,
    detached: true,
    stdio: 'ignore',
    env,
  });
  child.on('error', () => {});
  child.unref();
}
