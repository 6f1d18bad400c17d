import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CLI } from '../../src/demo/world.js';
import { HOSTILE_NAMES } from '../helpers/contract.js';
import { consortium, must } from '../helpers/sandbox.js';

const { m, cleanup } = consortium(['elena']);
const { elena } = m;
test.after(cleanup);

const refsNow = () => must(elena.git(['for-each-ref'])).stdout;

test('hostile researcher names by flag are refused with exit 2 and nothing written', () => {
  const before = refsNow();
  for (const name of [...HOSTILE_NAMES, '']) {
    const r = elena.gc(['start', '--researcher', name]);
    assert.is(r.code, 2, `--researcher ${JSON.stringify(name)}`);
    assert.match(r.stderr, /researcher/);
    assert.not.match(r.stderr, /\n\s+at /);
  }
  assert.is(refsNow(), before);
  assert.not.ok(existsSync(path.join(elena.dir, 'pwned')));
  assert.not.ok(existsSync(path.join(elena.dir, 'x')));
});

test('hostile names by CONSORTIUM_RESEARCHER are refused; empty means unset', () => {
  const before = refsNow();
  for (const name of HOSTILE_NAMES) {
    const r = elena.gc(['start'], { env: { CONSORTIUM_RESEARCHER: name } });
    assert.is(r.code, 2, `CONSORTIUM_RESEARCHER=${JSON.stringify(name)}`);
  }
  const empty = elena.gc(['start'], { env: { CONSORTIUM_RESEARCHER: '' } });
  assert.is(empty.code, 2);
  assert.match(empty.stderr, /Cannot tell which researcher you are/);
  assert.is(refsNow(), before);
});

test('a workspace folder with a hostile name is refused when researchers come from folders', () => {
  must(elena.git(['rm', '-q', 'consortium.config.yaml']));
  for (const name of ['Upper', 'a b', 'x.lock', '$(touch x)']) {
    elena.write(`consortium/${name}/file.txt`, 'x');
    const r = elena.gc(['start'], { cwd: `consortium/${name}` });
    assert.is(r.code, 2, `folder ${JSON.stringify(name)}`);
    assert.match(r.stderr, /not a valid researcher id/);
  }
  must(elena.git(['checkout', '-q', 'HEAD', '--', 'consortium.config.yaml']));
});

test('unknown researchers are refused, naming the known ones', () => {
  const r = elena.gc(['start', '-r', 'mallory']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /elena-vasquez/);
});

test('invalid configurations are one clear error naming the file and key (exit 2)', () => {
  const cases: [string, RegExp][] = [
    [
      'workspaces: [unclosed',
      /consortium\.config\.yaml could not be read: unexpected end of the stream.*\(2:1\)/,
    ],
    ['sessions:\n  staleAfter: soon\n', /sessions\.staleAfter/],
    ['protocol: 7\n', /protocol/],
    ['gates:\n  G1: { requires: [G2] }\n', /gates\.G1\.requires\[0\]/],
    ['gates:\n  A: { requires: [B] }\n  B: { requires: [A] }\n', /cycle/],
    ['researchers:\n  ana: {}\ngates:\n  G1: { owner: bob }\n', /gates\.G1\.owner/],
    ['colour: true\n', /colour/],
    ['gates:\n  A: { owner: nobody }\n', /gates\.A\.owner: expected a researcher \(a workspace folder/],
  ];
  for (const [yaml, pattern] of cases) {
    writeFileSync(path.join(elena.dir, 'consortium.config.yaml'), yaml);
    for (const command of ['status', 'start']) {
      const r = elena.gc([command, '-r', 'ana'].slice(0, command === 'status' ? 1 : 3));
      assert.is(r.code, 2, `${command} with ${JSON.stringify(yaml)}`);
      assert.match(r.stderr, /consortium\.config\.yaml/);
      assert.match(r.stderr, pattern);
      assert.is(r.stderr.trim().split('\n').length, 1, 'one line');
    }
  }
  must(elena.git(['checkout', '-q', 'HEAD', '--', 'consortium.config.yaml']));
});

test('other configuration places are found: .consortiumrc.json and package.json', () => {
  must(elena.git(['rm', '-q', 'consortium.config.yaml']));
  writeFileSync(path.join(elena.dir, '.consortiumrc.json'), '{"sessions": {"branchPrefix": "agent/"}}');
  const s = JSON.parse(must(elena.gc(['start', '-r', 'elena-vasquez', '--json'])).stdout);
  assert.match(s.branch, /^agent\/elena-vasquez-/);
  must(elena.gc(['end']));
  writeFileSync(path.join(elena.dir, '.consortiumrc.json'), '{"sessions": {"branchPrefix": 3}}');
  const bad = elena.gc(['status']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /\.consortiumrc\.json.*sessions\.branchPrefix/);
  rmSync(path.join(elena.dir, '.consortiumrc.json'));
  must(elena.git(['checkout', '-q', 'main']));
  must(elena.git(['checkout', '-q', 'HEAD', '--', 'consortium.config.yaml']));
});

test('an empty configuration file is a configuration with every default, and init keeps it', () => {
  writeFileSync(path.join(elena.dir, 'consortium.config.yaml'), '');
  must(elena.gc(['status']));
  const init = must(elena.gc(['init', '--json']));
  assert.not.ok(JSON.parse(init.stdout).changes.some((c: string) => c.includes('consortium.config.yaml')));
  assert.is(readFileSync(path.join(elena.dir, 'consortium.config.yaml'), 'utf8'), '');
  must(elena.gc(['uninstall']));
  must(elena.git(['checkout', '-q', 'HEAD', '--', 'consortium.config.yaml']));
});

test('usage errors: unknown command, unknown option, bad session id', () => {
  assert.is(elena.gc(['frobnicate']).code, 2);
  const opt = elena.gc(['status', '--colour']);
  assert.is(opt.code, 2);
  assert.match(opt.stderr, /help status/);
  const sid = elena.gc(['end', '--session', '--upload-pack=x']);
  assert.is(sid.code, 2);
});

test('the grammar as docs/cli.md states it: bare nouns list, handoff show, orient always exits 0', () => {
  for (const noun of ['ci', 'mcp']) {
    const r = elena.gc([noun]);
    assert.is(r.code, 0, `${noun}: ${r.stderr}`);
    assert.match(r.stdout, `usage: git consortium ${noun} `);
  }
  assert.is(elena.gc(['ci', 'nonsense']).code, 2);
  const show = elena.gc(['handoff', 'show', '-r', 'elena-vasquez']);
  assert.is(show.code, 0, show.stderr);
  assert.match(show.stdout, 'No handoff from elena-vasquez (known from the --researcher flag) yet.');
  assert.is(elena.gc(['handoff', '--show', '-r', 'elena-vasquez']).stdout, show.stdout);
  const nobody = elena.gc(['orient']);
  assert.is(nobody.code, 0, 'orient exits 0 without an identity');
  assert.match(nobody.stdout, 'Cannot tell which researcher you are');
  assert.equal(JSON.parse(elena.gc(['orient', '--json']).stdout).researcher, null);
});

test('help: general, per command, -h, and --help of a command', () => {
  const general = must(elena.gc(['help']));
  assert.match(general.stdout, /start\s+register a session/);
  const one = must(elena.gc(['help', 'start']));
  assert.match(one.stdout, /usage: git consortium start/);
  assert.is(must(elena.gc(['start', '--help'])).stdout, one.stdout);
  assert.match(must(elena.gc(['-h'])).stdout, /Commands:/);
  assert.is(elena.gc(['help', 'nope']).code, 2);
});

test('--json prints one JSON document and nothing else on stdout', () => {
  for (const args of [
    ['status', '--json'],
    ['status', '--all', '--json'],
    ['orient', '-r', 'elena-vasquez', '--json'],
  ]) {
    const r = must(elena.gc(args));
    assert.not.throws(() => JSON.parse(r.stdout), args.join(' '));
    assert.not.match(r.stdout, /\x1b\[/, 'no colour');
  }
});

test('a git older than 2.38 is refused with a message naming its version (exit 3), and a newer one is remembered', () => {
  const shim = mkdtempSync(path.join(tmpdir(), 'gc-oldgit-'));
  const real = spawnSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).stdout.trim();
  writeFileSync(
    path.join(shim, 'git'),
    `#!/bin/sh\nif [ "$1" = version ]; then echo "git version 2.30.1"; exit 0; fi\nexec "${real}" "$@"\n`,
  );
  chmodSync(path.join(shim, 'git'), 0o755);
  const old = spawnSync(process.execPath, [CLI, 'status'], {
    cwd: elena.dir,
    env: { ...elena.env(), PATH: `${shim}:${elena.env().PATH}` },
    encoding: 'utf8',
  });
  assert.is(old.status, 3);
  assert.match(old.stderr, /git 2\.30\.1 is too old: git-consortium needs git 2\.38 or newer/);
  must(elena.gc(['status']));
  rmSync(shim, { recursive: true, force: true });
});

test.run();
