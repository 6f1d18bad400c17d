// MCP resilience and CI, as ratios against `node -e 0` measured in the same run:
// - `mcp health` with one healthy stdio server (the test fixture, started with node) and with
//   that server plus a silent one (bounded by mcp.timeout = 1s: the silent server costs that);
// - `status` against `--version`, to show that the MCP SDK (loaded only by `mcp`) costs the
//   other commands nothing;
// - `ci report --no-fetch` on a session branch.
// Run: npm run build && node bench/mcp.mjs
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, nodeBaseline, ratio, report, scratch, time } from './lib.mjs';

const FIXTURES = path.resolve(import.meta.dirname, '..', 'test', 'fixtures');
const s = scratch('mcp');
try {
  writeFileSync(
    path.join(s.repo, 'consortium.config.yaml'),
    'protocol: [protocol/**]\nmcp:\n  timeout: 1s\n',
  );
  const healthy = { command: process.execPath, args: [path.join(FIXTURES, 'mcp-healthy.mjs')] };
  const silent = { command: process.execPath, args: [path.join(FIXTURES, 'mcp-silent.mjs')] };
  const mcpJson = (servers) =>
    writeFileSync(path.join(s.repo, '.mcp.json'), JSON.stringify({ mcpServers: servers }));
  const cli = (args, runs = 9) => time(process.execPath, [CLI, ...args], { cwd: s.repo, env: s.env, runs });

  const base = nodeBaseline();
  const fixtureAlone = time(
    process.execPath,
    ['-e', `import(${JSON.stringify(path.join(FIXTURES, 'mcp-healthy.mjs'))}).then(() => process.exit(0))`],
    { runs: 9 },
  );
  mcpJson({ healthy });
  const one = cli(['mcp', 'health']);
  mcpJson({ healthy, silent });
  const withSilent = time(process.execPath, [CLI, 'mcp', 'health'], {
    cwd: s.repo,
    env: { ...s.env, BENCH_ANY_EXIT: '1' },
    runs: 5,
  });
  const version = cli(['--version']);
  const status = cli(['status']);
  s.git(['checkout', '-q', '-b', 'claude-elena-20261125-000000']);
  writeFileSync(path.join(s.repo, 'consortium', 'elena', 'notes.md'), '# notes\nmore\n');
  s.git(['commit', '-qam', 'work']);
  const ci = cli(['ci', 'report', '--no-fetch', '--base', 'main']);

  report(`baseline node -e 0: ${base.toFixed(1)} ms`, [
    [
      'the healthy fixture server loading the SDK (node, no handshake)',
      `${fixtureAlone.toFixed(0)} ms  ${ratio(fixtureAlone, base)}`,
    ],
    ['mcp health, one healthy stdio server', `${one.toFixed(0)} ms  ${ratio(one, base)}`],
    [
      'mcp health, healthy + silent server (timeout 1s)',
      `${withSilent.toFixed(0)} ms  ${ratio(withSilent, base)}`,
    ],
    ['--version', `${version.toFixed(0)} ms  ${ratio(version, base)}`],
    ['status (no MCP SDK loaded)', `${status.toFixed(0)} ms  ${ratio(status, base)}`],
    ['ci report --no-fetch on a session branch', `${ci.toFixed(0)} ms  ${ratio(ci, base)}`],
  ]);
} finally {
  s.cleanup();
}
