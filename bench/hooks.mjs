// The git hooks' cost, each as a ratio against `node -e 0` measured in the same run:
// - post-checkout of a file checkout (git runs it on every `git checkout -- file`): shell
//   only, it must return before Node starts (target: at most 1.3x);
// - post-checkout of a session branch: refreshing its session, and registering a new one
//   (target: at most 2x);
// - the pre-push gate with 100 active sessions: in full against a local bare remote, with the
//   network cut (the remote's path missing: fetch and push fail at once, so what is left is
//   the gate's own work), and the coordination fetch alone, reported separately.
// Each hook is run exactly as git runs it: the husky stub in core.hooksPath, from the top of
// the worktree, with git's arguments (and stdin for pre-push).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  againstNode,
  backgroundSettled,
  CLI,
  EXTRA_CA_CERTS,
  figure,
  gitCalls,
  nodeBaseline,
  report,
  scratch,
  time,
  timedFigure,
  writeSessions,
} from './lib.mjs';

const s = scratch('hooks');
// Background work allowed, as on a researcher's machine: a hook leaves sharing and the record
// of a push to a detached process, which these figures do not wait for.
const env = { ...s.env, CONSORTIUM_RESEARCHER: 'elena', CONSORTIUM_NO_BACKGROUND: '' };

const cli = (args, extra = {}) => {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: s.repo,
    env: { ...process.env, ...env, ...extra },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

try {
  writeFileSync(
    path.join(s.repo, 'consortium.config.yaml'),
    'protocol: [protocol/**]\npolicy: { protocol: warn }\n',
  );
  s.git(['add', '-A']);
  s.git(['commit', '-qm', 'config']);
  s.git(['push', '-q', 'origin', 'main']);
  cli(['init']);
  const stubs = s.git(['config', 'core.hooksPath']).trim();
  const stub = (name) => path.join(stubs, name);
  const head = s.git(['rev-parse', 'HEAD']).trim();

  const base = nodeBaseline();
  const fileCheckout = await againstNode(stub('post-checkout'), [head, head, '0'], {
    cwd: s.repo,
    env,
    runs: 25,
  });
  // Counted on a second run, as the hook runs again and again: the first run with the counting
  // shim (a git binary not seen before) also asks its version and the git config.
  const gitOf = (name, args, input, before) =>
    gitCalls(args, { command: stub(name), cwd: s.repo, env, input, warm: true, before }).length;
  const fileCheckoutGit = gitOf('post-checkout', [head, head, '0']);

  s.git(['checkout', '-q', '-b', 'claude-elena-20261125-090000'], s.repo);
  const refresh = await againstNode(stub('post-checkout'), [head, head, '1'], {
    cwd: s.repo,
    env,
    runs: 15,
    settle: true,
  });
  const refreshGit = gitOf('post-checkout', [head, head, '1']);

  // Registering: each run checks out (hooks off) a session branch that has no session yet.
  let fresh = 0;
  const register = await againstNode(stub('post-checkout'), [head, head, '1'], {
    cwd: s.repo,
    env,
    runs: 10,
    settle: true,
    before: () =>
      spawnSync(
        'git',
        ['checkout', '-q', '-b', `claude-elena-20261125-1000${String(fresh++).padStart(2, '0')}`],
        {
          cwd: s.repo,
          env: { ...process.env, ...env, CONSORTIUM: '0' },
        },
      ),
    check: (r) => {
      if (!/registered/.test(r.stderr)) throw new Error(`register: ${r.stderr}`);
    },
  });
  let unregistered = 90;
  const registerGit = gitOf('post-checkout', [head, head, '1'], undefined, () =>
    spawnSync('git', ['checkout', '-q', '-b', `claude-elena-20261125-1000${unregistered++}`], {
      cwd: s.repo,
      env: { ...process.env, ...env, CONSORTIUM: '0' },
    }),
  );

  const refreshFloor = hookFloor('post-checkout', [head, head, '1'], refreshGit);
  const registerFloor = hookFloor('post-checkout', [head, head, '1'], registerGit);

  // The gate: 100 active sessions of others (10 of them on the protocol file we push).
  await writeSessions(s.repo, 100, (i) => ({
    researcher: `r${i % 7}`,
    branch: `claude-r${i % 7}-${i}`,
    changedFiles: [`src/f${i % 13}.py`, ...(i % 10 === 0 ? ['protocol/spec.md'] : [])],
  }));
  cli([
    'share',
    ...s
      .git(['for-each-ref', '--format=%(refname)', 'refs/consortium/sessions/'])
      .split('\n')
      .filter(Boolean),
  ]);
  s.git(['checkout', '-q', '-b', 'claude-elena-20261125-120000', 'main']);
  for (const dir of ['protocol', 'src']) mkdirSync(path.join(s.repo, dir), { recursive: true });
  writeFileSync(path.join(s.repo, 'protocol', 'spec.md'), 'changed\n');
  writeFileSync(path.join(s.repo, 'src', 'f1.py'), 'x\n');
  s.git(['add', 'protocol/spec.md', 'src/f1.py']);
  s.git(['commit', '-qm', 'spec'], s.repo);
  const tip = s.git(['rev-parse', 'HEAD']).trim();
  const input = `refs/heads/claude-elena-20261125-120000 ${tip} refs/heads/claude-elena-20261125-120000 ${'0'.repeat(40)}\n`;
  const gateArgs = ['origin', s.remote];
  await backgroundSettled();
  const fetch = time(
    'git',
    [
      'fetch',
      '--quiet',
      '--no-tags',
      '--no-write-fetch-head',
      '--prune',
      'origin',
      '+refs/consortium/*:refs/consortium-remote/*',
      '+refs/notes/consortium*:refs/notes/consortium-remote*',
    ],
    { cwd: s.repo, env, runs: 9 },
  );
  const gate = await againstNode(stub('pre-push'), gateArgs, {
    cwd: s.repo,
    env,
    input,
    runs: 9,
    settle: true,
  });
  const gateGit = gitOf('pre-push', gateArgs, input);
  // The detached recorders of those pushes finish before the remote goes away.
  await backgroundSettled();
  const hidden = `${s.remote}.away`;
  renameSync(s.remote, hidden);
  let offline;
  let offlineGit;
  let floor;
  let withCa;
  try {
    offline = await againstNode(stub('pre-push'), gateArgs, {
      cwd: s.repo,
      env,
      input,
      runs: 9,
      settle: true,
    });
    offlineGit = gitOf('pre-push', gateArgs, input);
    floor = hookFloor('pre-push', gateArgs, offlineGit, { input, fetch: true });
    withCa = caCertsFigure();
  } finally {
    renameSync(hidden, s.remote);
  }

  /**
   * What no hook with this many git processes can go below, measured here as the hook was
   * (for the gate: with the network cut): husky's runner and our hook body around a toolkit
   * that does nothing, then Node starting and running that many of git's cheapest commands
   * (for the gate, one of them the failing fetch), one after the other.
   */
  function hookFloor(name, args, processes, { input, fetch = false } = {}) {
    const fake = path.join(s.root, 'fake-bin');
    mkdirSync(fake, { recursive: true });
    writeFileSync(path.join(fake, 'git-consortium'), '#!/bin/sh\ncat >/dev/null\n', { mode: 0o755 });
    const shell = time(stub(name), args, {
      cwd: s.repo,
      env: { ...env, PATH: `${fake}:${process.env.PATH}` },
      input,
    });
    const script = `const { spawnSync } = require('node:child_process');
${fetch ? "spawnSync('git', ['fetch', '--quiet', 'origin', 'refs/consortium/*:refs/consortium-remote/*']);" : ''}
for (let i = ${fetch ? 1 : 0}; i < ${processes}; i++) spawnSync('git', ['rev-parse', '--git-dir']);`;
    return { ms: shell + time(process.execPath, ['-e', script], { cwd: s.repo, env }), processes };
  }

  /**
   * The same gate where the user's environment sets NODE_EXTRA_CA_CERTS (a proxy's certificate,
   * here the system's bundle), against `node -e 0` with it: the hook body starts the toolkit
   * without it (hooks/consortium.sh), so the gate costs what it costs without, where Node's
   * own start pays for the certificates.
   */
  function caCertsFigure() {
    const file = EXTRA_CA_CERTS || '/etc/ssl/certs/ca-certificates.crt';
    if (!existsSync(file)) return undefined;
    const ca = { ...env, NODE_EXTRA_CA_CERTS: file };
    const node = time(process.execPath, ['-e', '0'], { env: ca, runs: 9 });
    const gateWith = time(stub('pre-push'), gateArgs, { cwd: s.repo, env: ca, input, runs: 9 });
    return { node, gate: gateWith };
  }

  /** A hook's floor beside it: what it is against Node's start, and the hook against it. */
  function floorRow(f, hook) {
    return [
      `  its physical floor: husky's runner, node -e 0 and ${f.processes} git processes at their cheapest`,
      `${figure(f.ms, base)}  (the hook: ${(hook.ms / f.ms).toFixed(2)}x its floor)`,
    ];
  }

  report(
    'Git hooks (medians; each ratio to a node -e 0 run just before each sample; git processes started)',
    [
      ['node -e 0 (baseline)', `${base.toFixed(1)} ms`],
      ['post-checkout, file checkout (goal <= 1.3x)', timedFigure(fileCheckout, fileCheckoutGit)],
      ['post-checkout, session branch, session refreshed (goal <= 1.3x)', timedFigure(refresh, refreshGit)],
      floorRow(refreshFloor, refresh),
      [
        'post-checkout, session branch, session registered (goal <= 1.5x)',
        timedFigure(register, registerGit),
      ],
      floorRow(registerFloor, register),
      ['pre-push gate, 100 live sessions, network cut (goal <= 1.5x)', timedFigure(offline, offlineGit)],
      floorRow(floor, offline),
      ...(withCa
        ? [
            [
              '  the same, NODE_EXTRA_CA_CERTS set (node -e 0 with it)',
              `${withCa.gate.toFixed(1)} ms  (${withCa.node.toFixed(1)} ms: ${(withCa.gate / withCa.node).toFixed(2)}x)`,
            ],
          ]
        : []),
      ['pre-push gate, 100 live sessions, local bare remote (all)', timedFigure(gate, gateGit)],
      ['  of which the coordination fetch alone (git fetch)', figure(fetch, base, 1)],
    ],
  );
} finally {
  await backgroundSettled();
  s.cleanup();
}
