// After tsc: write the man page from the same help text that `git consortium help` prints
// (git turns `git consortium --help` into `man git-consortium`), then bundle the CLI.
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

// The CLI is bundled: dist/main.js (dispatch, for dist/cli.cjs) and the chunks of the commands
// it loads on demand, in dist/chunks/, and the hooks' way in (dist/hot-hooks.cjs) as one file. Node 20 reads and links every ES module file on each start, and a hook runs
// on every checkout and tool call: from about 60 module files down to a handful saves some
// 15 ms a hook (bench/claude-hooks.mjs). Packages stay external. tsc's module tree stays in
// dist/ for the scripts and benchmarks that import single modules.
const dist = (p = '') => new URL(`../dist/${p}`, import.meta.url).pathname;
rmSync(dist('.bundle'), { recursive: true, force: true });
await build({
  entryPoints: { main: dist('dispatch.js') },
  outdir: dist('.bundle'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});
rmSync(dist('chunks'), { recursive: true, force: true });
renameSync(dist('.bundle/chunks'), dist('chunks'));
renameSync(dist('.bundle/main.js'), dist('main.js'));
// A cli.js left by an older build would be a second, stale way in.
rmSync(dist('cli.js'), { force: true });
// The hooks' way in is one CommonJS file of its own (dist/cli.cjs runs it from V8's code
// cache), small packages included: each handler's code in it is evaluated only when that
// handler runs, and what a hook loads, it loads at once. The large packages, which no hook's
// hot path uses, stay outside, loaded by require when a handler needs one.
await build({
  entryPoints: [dist('hot-hooks.js')],
  outfile: dist('hot-hooks.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['@modelcontextprotocol/*', '@octokit/*', '@actions/*', 'simple-git', 'cosmiconfig'],
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__bundleUrl', 'import.meta.resolve': '__bundleResolve' },
  banner: {
    js: 'const __bundleUrl=require("node:url").pathToFileURL(__filename).href,__bundleResolve=(s)=>require("node:url").pathToFileURL(require.resolve(s)).href;',
  },
  minify: true,
  logLevel: 'warning',
});
rmSync(dist('.bundle'), { recursive: true, force: true });
chmodSync(dist('cli.cjs'), 0o755);
