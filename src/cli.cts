#!/usr/bin/env node
/**
 * The process around dispatch: its arguments in, its exit code out.
 *
 * CommonJS on purpose: Node 20 starts a CommonJS entry about 5 ms sooner than an ES module
 * one. The hooks, which run on every checkout, push and tool call, go straight to their own
 * bundle (dist/hot-hooks.cjs), the server's hooks to theirs (dist/server-hooks.cjs), every other
 * command to dist/commands.cjs (scripts/postbuild.mjs),
 * each compiled from V8's code cache when one is there.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import path from 'node:path';
import { Script } from 'node:vm';

const argv = process.argv.slice(2);

// A hook body (hooks/consortium.sh), a Claude Code hook's command (claude/settings.ts) and the
// toolkit for a detached process of its own start Node without the user's NODE_EXTRA_CA_CERTS,
// which Node 20 reads as it starts and no hook needs; git, and what git starts for this
// process (a credential helper), get it back as it was.
const caCerts = process.env.CONSORTIUM_NODE_EXTRA_CA_CERTS;
if (caCerts !== undefined) {
  // Empty: the user had none (a Claude Code hook's command passes it on unconditionally).
  if (caCerts) process.env.NODE_EXTRA_CA_CERTS = caCerts;
  else delete process.env.NODE_EXTRA_CA_CERTS;
  delete process.env.CONSORTIUM_NODE_EXTRA_CA_CERTS;
}
/** The compiled hooks' bundle whose code cache is to be written once the hook has run. */
let pending: { script: Script; file: string } | undefined;

// The ES-only packages a command loads (core/packages.ts) come through here: code run
// through node:vm has no import() of its own.
(globalThis as { __consortiumImport?: unknown }).__consortiumImport = (specifier: string) =>
  import(specifier);

if (argv[0] === 'hook' && (argv[1] === 'pre-receive' || argv[1] === 'post-receive')) {
  // The server's hooks: a bundle of their own, so the clients' hooks do not load the server's code.
  const server = loadCached(
    path.join(__dirname, 'server-hooks.cjs'),
    argv[1],
  ) as typeof import('./server-hooks.js');
  server.runServerHook(argv).then((code) => {
    process.exitCode = code;
    saveCache();
  });
} else if (argv[0] === 'hook' || argv[0] === 'claude-hook') {
  // A code cache per hook, as per command: one written by a post-checkout holds none of the
  // functions a PreToolUse runs, which would then be compiled again on every tool call.
  const hook = /^[A-Za-z-]{1,24}$/.test(argv[1] ?? '') ? argv[1]! : 'other';
  const hot = loadCached(
    path.join(__dirname, 'hot-hooks.cjs'),
    `hooks-${hook}`,
  ) as typeof import('./hot-hooks.js');
  hot.runHook(argv).then((code) => {
    process.exitCode = code;
    saveCache();
  });
} else {
  // A reader that stops early (`| head`) is not an error: core/stdio.ts ends the command for
  // what it writes, and this for the few that write through Node's stream (the MCP server).
  process.on('uncaughtException', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
  // Each command keeps a code cache of its own: the functions it runs are not another's.
  const name = /^[a-z][a-z-]{0,19}$/.test(argv[0] ?? '') ? argv[0]! : 'other';
  const commands = loadCached(path.join(__dirname, 'commands.cjs'), name) as typeof import('./dispatch.js');
  commands.dispatch(argv).then((code) => {
    process.exitCode = code;
    saveCache();
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
function loadCached(bundle: string, name: string): unknown {
  const source = readFileSync(bundle, 'utf8');
  const file = cacheFile(bundle, name);
  let cachedData: Buffer | undefined;
  try {
    if (file) cachedData = readFileSync(file);
  } catch {}
  // The bundle's text is its module's function already (scripts/postbuild.mjs).
  const script = new Script(source, { filename: bundle, cachedData });
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

/**
 * The cache of this bundle for `name`, under this Node, in the user's cache folder, keyed by the
 * hash of the bundle's content that the build wrote into dist/bundles.json: V8 checks only the
 * length of the source against its cached data, and an install may keep file times (a store,
 * a copy with -p), so neither could tell two builds apart. No hash, no cache.
 */
function cacheFile(bundle: string, name: string): string | undefined {
  try {
    const hashes = JSON.parse(readFileSync(path.join(path.dirname(bundle), 'bundles.json'), 'utf8'));
    const hash = hashes[path.basename(bundle)];
    if (typeof hash !== 'string' || !/^[0-9a-f]{16,64}$/.test(hash)) return undefined;
    const root = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
    return path.join(root, 'git-consortium', `${name}-${process.version}-${hash}.v8`);
  } catch {
    return undefined;
  }
}
