import { redirectOutput } from '../../src/core/stdio.js';
import type { Machine, Result } from '../../src/demo/world.js';
import { dispatch } from '../../src/dispatch.js';

/**
 * Runs `git consortium ARGS` in this process, as the CLI would in `machine`'s clone: its
 * environment (with `env` on top) and working folder for the call, stdout and stderr captured,
 * and "now" fixed when `clock` is given. Real git runs underneath, hooks included; only the
 * Node start of one process per command is saved. Calls run one at a time: they share
 * process.env, the working folder and the two streams.
 */
export interface InProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** An ISO 8601 time for "now" (CONSORTIUM_CLOCK). */
  clock?: string;
}

let queue: Promise<unknown> = Promise.resolve();

export function runIn(machine: Machine, args: string[], options: InProcessOptions = {}): Promise<Result> {
  const run = queue.then(() => runNow(machine, args, options));
  queue = run.catch(() => undefined);
  return run;
}

async function runNow(machine: Machine, args: string[], options: InProcessOptions): Promise<Result> {
  const env = machine.env({ ...options.env, ...(options.clock ? { CONSORTIUM_CLOCK: options.clock } : {}) });
  const savedEnv = { ...process.env };
  const savedCwd = process.cwd();
  const out = process.stdout.write;
  const err = process.stderr.write;
  let stdout = '';
  let stderr = '';
  const capture =
    (append: (text: string) => void) =>
    (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    };
  for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key];
  for (const [key, value] of Object.entries(env)) if (value !== undefined) process.env[key] = value;
  process.chdir(options.cwd ? `${machine.dir}/${options.cwd}` : machine.dir);
  process.stdout.write = capture((t) => {
    stdout += t;
  }) as typeof process.stdout.write;
  process.stderr.write = capture((t) => {
    stderr += t;
  }) as typeof process.stderr.write;
  redirectOutput((fd, text) => {
    if (fd === 1) stdout += text;
    else stderr += text;
  });
  try {
    const code = await dispatch(args);
    return { code, stdout, stderr };
  } finally {
    redirectOutput(undefined);
    process.stdout.write = out;
    process.stderr.write = err;
    process.chdir(savedCwd);
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  }
}
