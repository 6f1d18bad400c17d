#!/usr/bin/env node
/**
 * The process around dispatch: its arguments in, its exit code out.
 *
 * CommonJS on purpose: Node 20 starts a CommonJS entry about 5 ms sooner than an ES module
 * one, and the hooks, which run on every checkout, push and tool call, never load an ES
 * module. They go straight to their own bundle (dist/hot-hooks.cjs, see scripts/postbuild.mjs),
 * compiled from V8's code cache when one is there; every other command goes through the
 * ES module build of dispatch.ts.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import path from 'node:path';
import { Script } from 'node:vm';

const argv = process.argv.slice(2);
/** The compiled hooks' bundle whose code cache is to be written once the hook has run. */
let pending: { script: Script; file: string } | undefined;

if (argv[0] === 'hook' || argv[0] === 'claude-hook') {
  const hot = loadCached(path.join(__dirname, 'hot-hooks.cjs')) as typeof import('./hot-hooks.js');
  hot.runHook(argv).then((code) => {
    process.exitCode = code;
    saveCache();
  });
} else {
  // A reader that stops early (`| head`) is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  // dist/main.js is the bundle of dispatch.ts (scripts/postbuild.mjs).
  const main = './main.js';
  import(main).then(async (m: typeof import('./dispatch.js')) => {
    process.exitCode = await m.dispatch(argv);
  });
}

/**
 * Node 20 has no compile cache of its own (that came in Node 22), and compiling the hooks'
 * bundle is a third of what a hook adds to Node's start. So the bundle is compiled through
 * node:vm with the code V8 produced on an earlier run, kept per user and per bundle, and
 * written after a run that had none (by then it holds the functions the hook ran). A cache
 * that cannot be read or written, or that V8 rejects, costs only the compile it would have
 * saved.
 */
function loadCached(bundle: string): unknown {
  const source = readFileSync(bundle, 'utf8');
  const file = cacheFile(bundle);
  let cachedData: Buffer | undefined;
  try {
    if (file) cachedData = readFileSync(file);
  } catch {}
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new Script(wrapped, { filename: bundle, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, path.dirname(bundle));
  if (file && (!cachedData || script.cachedDataRejected)) pending = { script, file };
  return module.exports;
}

function saveCache() {
  if (!pending) return;
  try {
    mkdirSync(path.dirname(pending.file), { recursive: true });
    const temp = `${pending.file}.${process.pid}`;
    writeFileSync(temp, pending.script.createCachedData());
    renameSync(temp, pending.file);
  } catch {}
}

/** The cache of this bundle (its size and time) under this Node, in the user's cache folder. */
function cacheFile(bundle: string): string | undefined {
  try {
    const stat = statSync(bundle);
    const root = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
    const name = `hot-hooks-${process.version}-${stat.size}-${Math.floor(stat.mtimeMs)}.v8`;
    return path.join(root, 'git-consortium', name);
  } catch {
    return undefined;
  }
}
