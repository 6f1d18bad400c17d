import { fstatSync, read, statSync } from 'node:fs';

/**
 * stdin for the hooks, read from its file descriptor: process.stdin would load Node's stream
 * and socket modules first, about 7 ms of every tool call and push (bench/claude-hooks.mjs).
 */

/**
 * Whether stdin is a terminal: someone ran a hook by hand. A character device other than
 * /dev/null (node:tty would cost its socket modules again).
 */
export function stdinIsTerminal(): boolean {
  try {
    const stdin = fstatSync(0);
    return stdin.isCharacterDevice() && stdin.rdev !== statSync('/dev/null').rdev;
  } catch {
    return false;
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
