import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { consortium, json, must, SAMPLE_FILES } from '../helpers/sandbox.js';

/**
 * init, uninstall and doctor on real clones: idempotence, hooks the repository already had
 * (in .git/hooks and .husky/) still running, exact restoration, a repository without
 * package.json or configuration, the old scripts' leftovers.
 */
const withoutConfig = Object.fromEntries(
  Object.entries(SAMPLE_FILES).filter(([f]) => f !== 'consortium.config.yaml'),
);
const { world, m, cleanup } = consortium(['elena', 'yuki', 'aria'], withoutConfig);
const { elena, yuki, aria } = m;
test.after(cleanup);

const hook = (file: string, marker: string, body = '') => {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\necho "$0 $*" >> "${marker}"\n${body}`);
  chmodSync(file, 0o755);
};
const localConfig = (machine: typeof elena) => must(machine.git(['config', '--local', '--list'])).stdout;
const tree = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? tree(path.join(dir, e.name)).map((f) => `${e.name}/${f}`) : [e.name],
      )
    : [];

test('init in a repository with no package.json and no configuration writes one from the workspace folders', () => {
  const r = elena.gc(['init']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote consortium\.config\.yaml/);
  const config = readFileSync(path.join(elena.dir, 'consortium.config.yaml'), 'utf8');
  for (const id of ['elena-vasquez', 'yuki-tanaka', 'aria-blackwood', 'communications'])
    assert.match(config, new RegExp(id));
  assert.not.ok(existsSync(path.join(elena.dir, 'package.json')), 'no package.json appears');
  assert.is(json(elena, ['status']).sessions.length, 0, 'the configuration it wrote is valid');
  // The hooks work: a session branch registers its session.
  must(elena.git(['checkout', '-q', '-b', 'claude-elena-vasquez-20261125-090000']));
  assert.is(json(elena, ['status']).sessions.length, 1);
  assert.is(must(elena.git(['config', 'notes.rewriteRef'])).stdout.trim(), 'refs/notes/consortium');
  assert.equal(
    must(elena.git(['status', '--porcelain'])).stdout,
    '?? consortium.config.yaml\n',
    'nothing else appears in git status',
  );
});

test('init run twice changes nothing the second time', () => {
  const config = localConfig(elena);
  const files = tree(path.join(elena.dir, '.git', 'consortium', 'hooks'));
  const again = elena.gc(['init']);
  assert.is(again.code, 0);
  assert.match(again.stdout, /nothing to change/);
  assert.is(json(elena, ['init']).nothingToChange, true);
  assert.is(localConfig(elena), config);
  assert.equal(tree(path.join(elena.dir, '.git', 'consortium', 'hooks')), files);
});

test('init --claude --github adds the Claude Code files and the workflow, once', () => {
  const r = elena.gc(['init', '--claude', '--github']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote \.claude\/settings\.json/);
  assert.match(r.stdout, /wrote \.github\/workflows\/claude-session-sync\.yml/);
  assert.ok(existsSync(path.join(elena.dir, '.claude', 'settings.json')));
  assert.match(elena.gc(['init', '--claude', '--github']).stdout, /nothing to change/);
});

let before = '';
test('hooks the repository had in .git/hooks and .husky/ still run after init, with the same arguments and stdin', () => {
  const marker = path.join(world.root, 'yuki-hooks.log');
  hook(path.join(yuki.dir, '.git', 'hooks', 'post-checkout'), marker);
  hook(path.join(yuki.dir, '.husky', 'post-checkout'), marker);
  hook(path.join(yuki.dir, '.git', 'hooks', 'pre-push'), marker, `cat >> "${marker}"\n`);
  hook(path.join(yuki.dir, '.git', 'hooks', 'pre-commit'), marker);
  before = localConfig(yuki);
  const r = yuki.gc(['init']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /kept the repository's own hooks running: pre-commit/);

  must(yuki.git(['checkout', '-q', '-b', 'claude-yuki-tanaka-20261125-090000']));
  let log = readFileSync(marker, 'utf8');
  assert.match(log, /\.git\/hooks\/post-checkout [0-9a-f]{40} [0-9a-f]{40} 1/);
  assert.match(log, /\.husky\/post-checkout [0-9a-f]{40} [0-9a-f]{40} 1/);
  assert.is(json(yuki, ['status']).sessions.length, 1, 'and ours ran too');

  yuki.commit('Latency', { 'consortium/yuki-tanaka/latency.md': '5 ms\n' });
  must(yuki.git(['push', '-q', 'origin', 'HEAD']));
  log = readFileSync(marker, 'utf8');
  assert.match(log, /pre-commit/);
  assert.match(log, /\.git\/hooks\/pre-push origin /);
  assert.match(
    log,
    /HEAD [0-9a-f]{40} refs\/heads\/claude-yuki-tanaka-20261125-090000 0{40}/,
    'the chained pre-push read the same stdin',
  );
});

test('a failing pre-existing hook still fails git as before', () => {
  const marker = path.join(world.root, 'yuki-hooks.log');
  hook(path.join(yuki.dir, '.git', 'hooks', 'pre-commit'), marker, 'exit 1\n');
  yuki.write('consortium/yuki-tanaka/latency.md', '6 ms\n');
  must(yuki.git(['add', '-A']));
  assert.is(yuki.git(['commit', '-q', '-m', 'refused by pre-commit']).code, 1);
  hook(path.join(yuki.dir, '.git', 'hooks', 'pre-commit'), marker);
});

test('uninstall leaves the repository hooks setup as it was before init', () => {
  const gitHooks = tree(path.join(yuki.dir, '.git', 'hooks'));
  const r = yuki.gc(['uninstall']);
  assert.is(r.code, 0, r.stderr);
  assert.is(localConfig(yuki), before);
  assert.equal(tree(path.join(yuki.dir, '.git', 'hooks')), gitHooks);
  assert.not.ok(existsSync(path.join(yuki.dir, '.git', 'consortium', 'hooks')));
  assert.ok(existsSync(path.join(yuki.dir, '.husky', 'post-checkout')));
  assert.match(yuki.gc(['uninstall']).stdout, /nothing to undo/);
});

test('uninstall puts back a core.hooksPath of husky that init found', () => {
  must(aria.git(['config', 'core.hooksPath', '.husky/_']));
  const original = localConfig(aria);
  must(aria.gc(['init']));
  assert.match(must(aria.git(['config', 'core.hooksPath'])).stdout, /consortium\/hooks\/_/);
  must(aria.gc(['uninstall']));
  assert.is(localConfig(aria), original);
});

test('a core.hooksPath of another tool keeps running; a hook added after init is reported by doctor and chained by init', () => {
  const marker = path.join(world.root, 'aria-hooks.log');
  hook(path.join(aria.dir, '.githooks', 'post-checkout'), marker);
  must(aria.git(['config', 'core.hooksPath', '.githooks']));
  must(aria.gc(['init']));
  must(aria.git(['checkout', '-q', '-b', 'feature-githooks']));
  assert.match(readFileSync(marker, 'utf8'), /\.githooks\/post-checkout [0-9a-f]{40} [0-9a-f]{40} 1/);

  hook(path.join(aria.dir, '.git', 'hooks', 'pre-rebase'), marker);
  const doctor = JSON.parse(aria.gc(['doctor', '--json']).stdout);
  const added = doctor.checks.find((c: any) => c.name === 'repository hooks');
  assert.ok(added, JSON.stringify(doctor.checks));
  assert.match(added.message, /pre-rebase/);
  assert.match(must(aria.gc(['init'])).stdout, /pre-rebase/);
  must(aria.git(['rebase', '-q', '--force-rebase', 'main']));
  assert.match(readFileSync(marker, 'utf8'), /\.git\/hooks\/pre-rebase main/);

  must(aria.gc(['uninstall']));
  assert.is(must(aria.git(['config', 'core.hooksPath'])).stdout.trim(), '.githooks');
  must(aria.git(['config', '--unset', 'core.hooksPath']));
  must(aria.git(['checkout', '-q', 'main']));
});

test('init takes over from the old scripts: their lock files and refs are reported and removed', () => {
  writeFileSync(path.join(aria.dir, '.claude-session-20251001'), 'pid 123\n');
  writeFileSync(path.join(aria.dir, 'consortium', 'aria-blackwood', '.claude-session-x'), 'pid 456\n');
  must(aria.git(['update-ref', 'refs/claude/session-20251001', 'HEAD']));
  must(aria.git(['update-ref', 'refs/claude/other', 'HEAD']));
  const r = aria.gc(['init']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /removed the old scripts' lock file \.claude-session-20251001/);
  assert.match(r.stdout, /consortium\/aria-blackwood\/\.claude-session-x/);
  assert.match(r.stdout, /removed the old scripts' ref refs\/claude\/session-20251001/);
  assert.not.ok(existsSync(path.join(aria.dir, '.claude-session-20251001')));
  assert.is(
    must(aria.git(['for-each-ref', '--format=%(refname)', 'refs/claude/'])).stdout.trim(),
    'refs/claude/other',
  );
});

test('doctor reports a worktree whose hooks are not active', () => {
  const ok = JSON.parse(aria.gc(['doctor', '--json']).stdout);
  assert.ok(ok.checks.find((c: any) => c.name === 'hooks active in this worktree').level === 'ok');
  const wt = path.join(world.root, 'aria-wt');
  must(aria.git(['worktree', 'add', '-q', '-b', 'side', wt, 'main']));
  must(aria.git(['config', 'extensions.worktreeConfig', 'true']));
  must(aria.git(['config', '--worktree', 'core.hooksPath', '/nowhere'], { cwd: wt }));
  const r = aria.gc(['doctor', '--json']);
  assert.is(r.code, 3);
  const report = JSON.parse(r.stdout);
  const other = report.checks.find(
    (c: any) => c.name.startsWith('hooks active in') && c.name.includes('aria-wt'),
  );
  assert.is(other.level, 'fail');
  assert.match(other.message, /\/nowhere/);
  must(aria.git(['config', '--worktree', '--unset', 'core.hooksPath'], { cwd: wt }));
  assert.is(aria.gc(['doctor']).code, 0);
});

test('init refuses an invalid configuration and changes nothing; outside a repository it says so', () => {
  const original = localConfig(yuki);
  yuki.write('consortium.config.yaml', 'researchers:\n  Bad Name: {}\n');
  const r = yuki.gc(['init']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /consortium\.config\.yaml/);
  assert.is(localConfig(yuki), original);
  const outside = yuki.gc(['init'], { cwd: world.root });
  assert.is(outside.code, 3);
  assert.match(outside.stderr, /Not inside a git repository/);
  const flags = yuki.gc(['init', '--bogus']);
  assert.is(flags.code, 2);
});

test.run();
