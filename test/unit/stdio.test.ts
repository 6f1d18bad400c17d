import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

/** Output through file descriptors (src/core/stdio.ts), as a hook meets a reader that has gone. */
const stdio = path.resolve(import.meta.dirname, '..', '..', 'src', 'core', 'stdio.ts');

test('a closed stderr drops what follows and keeps the exit code: a refusal stays a refusal', () => {
  const script = `import('${stdio}').then(async (s) => { await new Promise((r) => setTimeout(r, 300)); for (let i = 0; i < 5000; i++) s.writeTo(2, 'blocked ' + i + '\\n'); s.writeTo(1, 'after\\n'); process.exitCode = 1; })`;
  const r = spawnSync(
    'bash',
    [
      '-c',
      `node --import tsx -e "${script}" 2>&1 >/dev/null | head -c 1 >/dev/null; echo "\${PIPESTATUS[0]}"`,
    ],
    {
      encoding: 'utf8',
    },
  );
  assert.is(r.stdout.trim(), '1', r.stderr);
});

test.run();
