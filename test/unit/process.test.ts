import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBounded } from '../../src/core/process.js';

/**
 * The time bound of a child process: past it the whole process group is killed, and the
 * answer comes even when something that left the group still holds the child's output open.
 */
/** Running, that is: a killed process nobody has reaped yet (a zombie) is dead. */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

test('past its bound, the whole group is killed: the child and what it started', async () => {
  const started = Date.now();
  const r = await runBounded('sh', ['-c', 'sleep 30 & echo $!; wait'], { timeoutMs: 300 });
  assert.ok(r.timedOut);
  assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms`);
  const grandchild = Number(r.stdout.trim());
  assert.ok(grandchild > 0, r.stdout);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.not.ok(alive(grandchild), 'the sleep it started was killed with it');
});

test('a process that left the group and holds the output open does not hold the answer', async () => {
  const started = Date.now();
  // setsid puts the sleep in a session (and a group) of its own, with the child's stdout.
  const r = await runBounded('sh', ['-c', "setsid sh -c 'echo $$; exec sleep 30' & wait"], {
    timeoutMs: 300,
  });
  const escaped = Number(r.stdout.trim());
  try {
    assert.ok(r.timedOut);
    assert.ok(Date.now() - started < 5000, `answered after ${Date.now() - started} ms`);
    assert.ok(escaped > 0, r.stdout);
  } finally {
    if (escaped > 0 && alive(escaped)) process.kill(escaped, 'SIGKILL');
  }
});

test.run();
