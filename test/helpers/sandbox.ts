import { readdirSync, readlinkSync, rmSync } from 'node:fs';
import { type Machine, type Result, SAMPLE_FILES, World } from '../../src/demo/world.js';
import { gitAs } from '../../src/git/run.js';

/**
 * End-to-end test worlds: built by the same code as the demo's sandbox, with background
 * sharing turned off so that what a test sees does not depend on timing.
 */
export { type Machine, type Result, SAMPLE_CONFIG, SAMPLE_FILES, World } from '../../src/demo/world.js';

/** The gate on the server in a world's remote, installed as an administrator would. */
export function installServerGate(world: World): void {
  const r = gitAs(['consortium', 'server', 'install', '--repo', world.remote], {
    cwd: world.root,
    env: world.env('admin'),
  });
  if (r.status !== 0) throw new Error(`server install failed: ${r.stderr}`);
}

export function must(result: Result): Result {
  if (result.code !== 0) throw new Error(`exit ${result.code}: ${result.stderr || result.stdout}`);
  return result;
}

/** Parses the JSON output of `git consortium <args> --json`, failing loudly on a non-zero exit. */
export function json<T = any>(
  machine: Machine,
  args: string[],
  options: Parameters<Machine['gc']>[1] = {},
): T {
  const result = machine.gc([...args, '--json'], options);
  if (result.code !== 0)
    throw new Error(`git consortium ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

export interface TestWorld<N extends string> {
  world: World;
  m: Record<N, Machine>;
  cleanup(): void;
}

/** The usual world: the remote seeded with the sample consortium, and one clone per name. */
export function consortium<const N extends string>(
  machines: N[],
  files: Record<string, string> = SAMPLE_FILES,
): TestWorld<N> {
  const world = new World(undefined, { CONSORTIUM_NO_BACKGROUND: '1' });
  world.seed(files);
  // The whole suite can run with the gate on the server as well (every test's remote).
  if (process.env.CONSORTIUM_TEST_SERVER_GATE === '1') installServerGate(world);
  const m = {} as Record<N, Machine>;
  for (const name of machines) m[name] = world.clone(name);
  return {
    world,
    m,
    cleanup: () => {
      if (process.env.KEEP_SANDBOX) return;
      awaitProcessesIn(world.root);
      rmSync(world.root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}

/**
 * Waits (up to 30 s) until no process works inside `root`: a detached process a test started
 * (a push's recorder, the git it runs) may still be writing its last files, and removing the
 * folder under it fails with ENOTEMPTY on a loaded machine. Linux's /proc tells where each
 * process works; elsewhere this returns at once and the retries of rmSync are all there is.
 */
function awaitProcessesIn(root: string): void {
  const deadline = Date.now() + 30_000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < deadline && processesIn(root) > 0) Atomics.wait(pause, 0, 0, 50);
}

function processesIn(root: string): number {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name) && name !== String(process.pid));
  } catch {
    return 0;
  }
  let count = 0;
  for (const pid of pids) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cwd === root || cwd.startsWith(`${root}/`)) count++;
    } catch {
      // gone already, or not ours to read
    }
  }
  return count;
}
