import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from '../core/args.js';
import type { CommandSpec } from '../core/command.js';
import { environmentError, usageError } from '../core/errors.js';
import { print } from '../core/output.js';
import { CHAPTERS } from '../demo/chapters.js';
import { Narrator } from '../demo/story.js';
import { SAMPLE_FILES, World } from '../demo/world.js';

/** What `demo` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'demo',
  usage: ['demo [--dir D]'],
  summary: 'build a sandbox consortium and play a short story in it',
  details: `Builds a bare remote and three researchers' clones of a small sample consortium in a
temporary folder (or D), plays a scripted story and prints every step. The sandbox is left for
you to explore.`,
  examples: [
    { run: 'demo', says: 'three researchers in a temporary folder, a story in chapters' },
    { run: 'demo --dir /tmp/consortium-demo', says: "keep the demo's repositories to look at afterwards" },
  ],
  options: {
    dir: { type: 'string' },
  },
} as const satisfies CommandSpec;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, command.options);
  const started = Date.now();
  const dir = values.dir === undefined ? undefined : path.resolve(values.dir);
  if (dir !== undefined && existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) {
    throw usageError(`${dir} already exists: give --dir a new folder (or an empty one) for the sandbox.`);
  }
  const world = new World(dir, {
    CONSORTIUM_NO_BACKGROUND: '1',
  });
  print(`Building a sandbox consortium in ${world.root}`);
  print('  remote.git: a bare repository, the git server everyone shares');
  world.seed(SAMPLE_FILES);
  const cast = { world, elena: world.clone('elena'), yuki: world.clone('yuki'), aria: world.clone('aria') };
  print('  elena/, yuki/, aria/: one clone per researcher, each a separate "machine" with its own HOME');
  // As a new user would after cloning: init installs the git hooks (a clone runs none of ours).
  for (const machine of [cast.elena, cast.yuki, cast.aria]) {
    const init = machine.gc(['init']);
    if (init.code !== 0)
      throw environmentError(`git consortium init failed in ${machine.dir}: ${init.stderr.trim()}`);
  }
  print('  git consortium init in each clone: the git hooks are installed');
  const tell = new Narrator(print);
  try {
    for (const [i, chapter] of CHAPTERS.entries()) {
      tell.chapter(i + 1, chapter.title);
      await chapter.play(cast, tell);
    }
  } catch (error) {
    throw environmentError(
      `The demo stopped: ${error instanceof Error ? error.message : String(error)}. The sandbox is left in ${world.root}.`,
    );
  }
  print('');
  print(`Done in ${((Date.now() - started) / 1000).toFixed(1)}s. The sandbox is yours to explore:`);
  print(`  cd ${path.join(world.root, 'elena')} && PATH=${world.bin}:$PATH git consortium status --all`);
  return 0;
}
