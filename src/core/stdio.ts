import { fstatSync, read, statSync, writeSync } from 'node:fs';

/**
 * stdin, stdout and stderr through their file descriptors: process.stdin, process.stdout and
 * process.stderr load Node's stream and socket modules on first use, about 7 ms of every
 * command, tool call and push (bench/claude-hooks.mjs, bench/status.mjs). The long-running
 * MCP server keeps Node's streams.
 */

/**
 * Whether a descriptor is a terminal: a character device other than /dev/null (node:tty
 * would load the socket modules again).
 */
export function isTerminal(fd: 0 | 1 | 2): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.isCharacterDevice() && stat.rdev !== statSync('/dev/null').rdev;
  } catch {
    return false;
  }
}

/** Whether stdin is a terminal: someone ran a hook by hand. */
export const stdinIsTerminal = () => isTerminal(0);

/**
 * Writes all of `text` to stdout (1) or stderr (2), at once. A reader that stopped early
 * (`| head`) is not an error: the command ends there, with the code it had.
 */
export function writeTo(fd: 1 | 2, text: string): void {
  if (sink) {
    sink(fd, text);
    return;
  }
  const bytes = Buffer.from(text, 'utf8');
  let at = 0;
  while (at < bytes.length) {
    try {
      at += writeSync(fd, bytes, at);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') process.exit(process.exitCode ?? 0);
      // A descriptor left non-blocking by whoever started us: wait a moment and go on.
      if (code === 'EAGAIN') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
      else throw error;
    }
  }
}

/**
 * All of stdin as text, or undefined when it is not closed within `limitMs`. A read still
 * waiting then would keep the process alive, so the process ends soon after it has answered.
 */
export function readStdin(limitMs = Number.POSITIVE_INFINITY): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (text: string | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(text);
    };
    const timer = Number.isFinite(limitMs)
      ? setTimeout(() => {
          finish(undefined);
          setTimeout(() => process.exit(), 100).unref();
        }, limitMs)
      : undefined;
    timer?.unref();
    const next = () =>
      read(0, Buffer.alloc(65536), 0, 65536, null, (error, bytes, buffer) => {
        if (error?.code === 'EAGAIN') return void setTimeout(next, 5);
        if (error || bytes === 0) return finish(Buffer.concat(chunks).toString('utf8'));
        chunks.push(buffer.subarray(0, bytes));
        next();
      });
    next();
  });
}

/** Where output goes instead, while a command runs inside another program (test/helpers/in-process.ts). */
let sink: ((fd: 1 | 2, text: string) => void) | undefined;

export function redirectOutput(to: ((fd: 1 | 2, text: string) => void) | undefined): void {
  sink = to;
}
