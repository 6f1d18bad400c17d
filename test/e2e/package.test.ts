import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allCommands } from '../../src/commands/registry.js';
import { consortium, json, must } from '../helpers/sandbox.js';

/**
 * The package as users get it: packed, installed globally into a folder of its own, and used
 * from there, the man page behind `git consortium --help` included.
 */
const PROJECT = path.resolve(import.meta.dirname, '..', '..');
const work = mkdtempSync(path.join(tmpdir(), 'gc-package-'));
const prefix = path.join(work, 'prefix');
const { m, cleanup } = consortium(['elena', 'yuki']);
test.after(() => {
  cleanup();
  rmSync(work, { recursive: true, force: true });
});

const npm = (args: string[], cwd = PROJECT) => {
  const r = spawnSync('npm', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
    },
  });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

/** The machine's environment with only the installed package's bin (not the sandbox's) on PATH. */
const installedEnv = () => ({
  PATH: `${path.join(prefix, 'bin')}:${(process.env.PATH ?? '')
    .split(':')
    .filter((p) => !p.includes('gc-') && !p.includes('git-consortium-'))
    .join(':')}`,
  MANPATH: path.join(prefix, 'share', 'man'),
  MANPAGER: 'cat',
  PAGER: 'cat',
  MANWIDTH: '100',
});

let tarball = '';

test('the packed package holds the CLI, the hook bodies, the templates and the man page, and no sources', () => {
  // The suite has just built it; packing must not rebuild dist/ under the other tests (prepare).
  const packed = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work]))[0];
  tarball = path.join(work, packed.filename);
  const files: string[] = packed.files.map((f: { path: string }) => f.path);
  for (const needed of [
    'dist/cli.cjs',
    'dist/commands.cjs',
    'dist/bundles.json',
    'dist/hot-hooks.cjs',
    'hooks/pre-push',
    'hooks/post-checkout',
    'man/git-consortium.1',
    'templates/github/claude-session-sync.yml',
    'templates/claude/commands/consortium-compact.md',
    'package.json',
    'README.md',
  ]) {
    assert.ok(files.includes(needed), `${needed} is packed`);
  }
  assert.not.ok(
    files.some((f) => f.startsWith('src/') || f.startsWith('test/')),
    'no sources or tests',
  );
});

test('installed globally, git consortium works, and --help opens the man page made from the help text', async () => {
  npm(
    ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball],
    work,
  );
  const env = installedEnv();
  const version = must(m.elena.git(['consortium', '--version'], { env }));
  assert.match(version.stdout, /^git-consortium \d+\.\d+\.\d+/);
  const man = m.elena.git(['consortium', '--help'], { env });
  if (spawnSync('sh', ['-c', 'command -v man'], { encoding: 'utf8' }).status === 0) {
    assert.is(man.code, 0, man.stderr);
    assert.match(man.stdout, /GIT-CONSORTIUM\(1\)/);
    for (const command of (await allCommands()).filter((c) => !c.hidden))
      assert.match(man.stdout, `git consortium ${command.name}`);
  }
  const page = readFileSync(path.join(prefix, 'share', 'man', 'man1', 'git-consortium.1'), 'utf8');
  assert.match(page, /^\.TH GIT\\-CONSORTIUM 1/);
});

test('the installed package runs the hooks: init, then a checkout registers a session and a push is gated', () => {
  const env = installedEnv();
  must(m.elena.git(['consortium', 'init'], { env }));
  must(m.elena.git(['checkout', '-q', '-b', 'claude-elena-vasquez-20261125-101010'], { env }));
  const status = json(m.elena, ['status'], { env });
  assert.is(status.sessions.length, 1, 'post-checkout registered the session');
  assert.is(status.sessions[0].researcher, 'elena-vasquez');
  m.elena.commit('change the protocol', { 'protocol/spec.md': '# Protocol\n\nchanged by elena\n' });
  const pushed = m.elena.git(['push', '-q', '-u', 'origin', 'HEAD'], { env });
  assert.is(pushed.code, 0, pushed.stderr);
  const ref = must(m.yuki.git(['ls-remote', 'origin', 'refs/consortium/sessions/*'])).stdout;
  assert.match(ref, status.sessions[0].id, 'the push shared the session record');
});

test.run();
