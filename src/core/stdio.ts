import { closeSync, constants, fstatSync, openSync, read, readSync, statSync, writeSync } from 'node:fs';

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
 * (`| head`, a closed pipe) is not an error: what follows for it is dropped, and the command
 * goes on to its own exit code (a gate's refusal must stay a refusal when its report cannot be
 * read).
 */
export function writeTo(fd: 1 | 2, text: string): void {
  if (sink) {
    sink(fd, text);
    return;
  }
  if (gone.has(fd)) return;
  const bytes = Buffer.from(text, 'utf8');
  let at = 0;
  while (at < bytes.length) {
    try {
      at += writeSync(fd, bytes, at);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') {
        gone.add(fd);
        return;
      }
      // A descriptor left non-blocking by whoever started us: wait a moment and go on.
      if (code === 'EAGAIN') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
      else throw error;
    }
  }
}

/** Descriptors whose reader has gone. */
const gone = new Set<number>();

/**
 * All of stdin as text, or undefined when it is not closed within `limitMs`. stdin is opened
 * again, non-blocking (/dev/stdin: a description of its own, so the file descriptor the process
 * was given keeps its mode), and polled: a read blocked in Node's thread pool would keep the
 * process from ever exiting, even after it has answered. A socket (what Node's spawn gives a
 * child for stdin, Claude Code's hooks included) cannot be opened that way: it is read in the
 * pool (Node's stream would cost its modules on every tool call), and if the limit passes with
 * the read still waiting, the process ends itself with SIGKILL once it has answered: nothing
 * else can stop that read, and a hook must never hang.
 */
export function readStdin(limitMs = Number.POSITIVE_INFINITY): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    let fd = -1;
    let pooled = false;
    const finish = (text: string | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (fd >= 0) closeSync(fd);
      if (pooled && text === undefined) setTimeout(() => process.kill(process.pid, 'SIGKILL'), 100);
      resolve(text);
    };
    const all = () => Buffer.concat(chunks).toString('utf8');
    const timer = Number.isFinite(limitMs) ? setTimeout(() => finish(undefined), limitMs) : undefined;
    try {
      fd = openSync('/dev/stdin', constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      pooled = true;
      const next = () =>
        read(0, Buffer.alloc(65536), 0, 65536, null, (error, bytes, buffer) => {
          if (error?.code === 'EAGAIN') return void setTimeout(next, 5);
          if (error || bytes === 0) return finish(all());
          chunks.push(buffer.subarray(0, bytes));
          next();
        });
      next();
      return;
    }
    const buffer = Buffer.alloc(65536);
    // Claude Code and git write at once; a writer that is slow gets looked at less often.
    let pause = 1;
    const poll = () => {
      while (!done) {
        let bytes: number;
        try {
          bytes = readSync(fd, buffer, 0, buffer.length, null);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') finish(all());
          else {
            setTimeout(poll, pause);
            pause = Math.min(pause * 2, 50);
          }
          return;
        }
        if (bytes === 0) {
          finish(all());
          return;
        }
        chunks.push(Buffer.from(buffer.subarray(0, bytes)));
      }
    };
    poll();
  });
}

/** Where output goes instead, while a command runs inside another program (test/helpers/in-process.ts). */
let sink: ((fd: 1 | 2, text: string) => void) | undefined;

export function redirectOutput(to: ((fd: 1 | 2, text: string) => void) | undefined): void {
  sink = to;
}
