// After tsc: write the man page from the same help text that `git consortium help` prints
// (git turns `git consortium --help` into `man git-consortium`), then bundle the CLI.
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const { COMMON, ENVIRONMENT } = await import('../dist/help.js');
const COMMANDS = await (await import('../dist/commands/registry.js')).allCommands();
const { version } = await import('../dist/version.js');
const esc = (text) =>
  text
    .replace(/\\/g, '\\e')
    .replace(/^([.'])/gm, '\\&$1')
    .replace(/-/g, '\\-')
    .replace(/"/g, '\\(dq');
const page = [
  `.TH GIT\\-CONSORTIUM 1 "" "git-consortium ${version}" "Git Manual"`,
  '.SH NAME',
  'git\\-consortium \\- coordinate researchers and AI coding\\-agent sessions on one git repository',
  '.SH SYNOPSIS',
  '.B git consortium',
  '.I command',
  '[options]',
  '.SH DESCRIPTION',
  esc(
    'Sessions, leases, gate changes and notes are stored as git refs and notes and shared through the remote, so several machines coordinate through the git server they already have.',
  ),
  '.SH COMMANDS',
  ...COMMANDS.filter((c) => !c.hidden).flatMap((c) => [
    '.TP',
    ...c.usage.map((u, i) =>
      i ? `.br\n.B ${esc(`git consortium ${u}`)}` : `.B ${esc(`git consortium ${u}`)}`,
    ),
    esc(`${c.summary}. ${c.details.replace(/\n/g, ' ')}`),
  ]),
  '.SH OPTIONS AND EXIT STATUS',
  esc(COMMON.replace(/\n/g, ' ')),
  '.SH EXAMPLES',
  ...COMMANDS.filter((c) => !c.hidden).flatMap((c) =>
    c.examples.flatMap((e) => ['.TP', `.B ${esc(`git consortium ${e.run}`)}`, esc(e.says)]),
  ),
  '.SH ENVIRONMENT',
  ...ENVIRONMENT.flatMap(([name, meaning]) => ['.TP', `.B ${esc(name)}`, esc(meaning)]),
  '.SH SEE ALSO',
  '.BR git (1),',
  '.BR git\\-notes (1),',
  '.BR githooks (5)',
  '',
].join('\n');
mkdirSync(new URL('../man/', import.meta.url), { recursive: true });
writeFileSync(new URL('../man/git-consortium.1', import.meta.url), page);

// The CLI is bundled into CommonJS files that dist/cli.cjs compiles from V8's code cache:
// dist/hot-hooks.cjs for the git and Claude Code hooks, which run on every checkout, push and
// tool call, dist/server-hooks.cjs for the server's pre-receive and post-receive, and
// dist/commands.cjs for every other command. Node 20 resolves, reads and
// compiles every ES module file on each start: some 25 ms for a command's chunks, more than
// its work (bench/status.mjs). In each bundle a module's code runs only when a command that
// needs it runs. The large packages stay outside, loaded when a command needs one (an
// ES-only package through core/packages.ts). tsc's module tree stays in dist/ for the scripts
// and benchmarks that import single modules.
const dist = (p = '') => new URL(`../dist/${p}`, import.meta.url).pathname;
// What an older build left: the ES module bundle and its chunks, a second way in.
for (const stale of ['chunks', 'main.js', 'cli.js', '.bundle'])
  rmSync(dist(stale), { recursive: true, force: true });
const bundle = (entry, outfile) =>
  build({
    entryPoints: [dist(entry)],
    outfile: dist(outfile),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // husky finds its own files from where its module lies: it stays in node_modules.
    // js-yaml too: only init and the worktree set-up of Claude Code read YAML, and in the hooks'
    // bundle it would be a fifth of what every hook compiles.
    external: [
      '@modelcontextprotocol/*',
      '@octokit/*',
      '@actions/*',
      'simple-git',
      'cosmiconfig',
      'husky',
      'js-yaml',
    ],
    // Code run through node:vm cannot use import(): the modules of the bundle are initialised
    // in place, the packages outside are required.
    supported: { 'dynamic-import': false },
    define: { 'import.meta.url': '__bundleUrl', 'import.meta.resolve': '__bundleResolve' },
    // The bundle is the function dist/cli.cjs compiles (its module's wrapper written here, so
    // that a hook does not copy a third of a megabyte of source to wrap it on every start).
    banner: {
      js: '(function (exports, require, module, __filename, __dirname) {const __bundleUrl=require("node:url").pathToFileURL(__filename).href,__bundleResolve=(s)=>require("node:url").pathToFileURL(require.resolve(s)).href;',
    },
    footer: { js: '\n})' },
    // Names kept: a stack trace (CONSORTIUM_DEBUG) and a profile stay readable.
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
  });
await bundle('hot-hooks.js', 'hot-hooks.cjs');
await bundle('server-hooks.js', 'server-hooks.cjs');
await bundle('dispatch.js', 'commands.cjs');
// The content hash of each bundle keys its code cache (dist/cli.cjs): a cache made from another
// build of the same length would otherwise run that build's code.
const hashOf = (file) =>
  createHash('sha256')
    .update(readFileSync(dist(file)))
    .digest('hex')
    .slice(0, 32);
writeFileSync(
  dist('bundles.json'),
  `${JSON.stringify(Object.fromEntries(['hot-hooks.cjs', 'server-hooks.cjs', 'commands.cjs'].map((f) => [f, hashOf(f)])))}\n`,
);
chmodSync(dist('cli.cjs'), 0o755);
