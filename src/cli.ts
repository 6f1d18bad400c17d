#!/usr/bin/env node
/** The process around dispatch.ts: its arguments in, its exit code out. */
import { dispatch } from './dispatch.js';

// A reader that stops early (`| head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});

dispatch(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
