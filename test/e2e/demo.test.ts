import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CHAPTERS } from '../../src/demo/chapters.js';
import { CLI } from '../../src/demo/world.js';

/**
 * The README's first command ends in `git consortium demo`: the story must play to its end on
 * a fresh machine. Each of its commands checks its own exit code (src/demo/story.ts), so a
 * chapter whose feature broke stops the demo; here, what a newcomer reads is checked too.
 */
test('the demo plays every chapter to the end, and shows what each is about', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gc-demo-'));
  try {
    const home = path.join(dir, 'home');
    const r = spawnSync(process.execPath, [CLI, 'demo', '--dir', path.join(dir, 'sandbox')], {
      env: { ...process.env, HOME: home, GIT_CONFIG_NOSYSTEM: '1', NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
    for (const [i, c] of CHAPTERS.entries()) assert.match(r.stdout, `== ${i + 1}. ${c.title}`);
    // The line check, shown before anyone commits: Yuki's line next to Elena's.
    assert.match(r.stdout, /src\/shared\.py: you changed line 5\. elena-vasquez's live session/);
    assert.match(r.stdout, /5 \* THRESHOLD = 0\.1 {2}# Yuki.*\| +5 \* THRESHOLD = 0\.01 {2}# Elena/);
    assert.match(r.stdout, /Done in \d/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
