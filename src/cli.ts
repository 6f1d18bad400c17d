#!/usr/bin/env node
/**
 * The process around dispatch.ts: its arguments in, its exit code out. The hooks go straight
 * to their own bundle (hot-hooks.ts), every other command through dispatch.
 */
const argv = process.argv.slice(2);

// A reader that stops early (`| head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});

// A file name the bundler leaves alone: hot-hooks.js is bundled by itself.
const hot = './hot-hooks.js';
const run =
  argv[0] === 'hook' || argv[0] === 'claude-hook'
    ? import(hot).then((m: typeof import('./hot-hooks.js')) => m.runHook(argv))
    : import('./dispatch.js').then((m) => m.dispatch(argv));
run.then((code) => {
  process.exitCode = code;
});
