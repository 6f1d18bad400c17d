import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import yaml from 'js-yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EVENTS } from '../../src/claude/event.js';
import { hookCommand } from '../../src/claude/settings.js';
import { CLI } from '../../src/demo/world.js';
import { consortium, json, type Machine, must, type Result } from '../helpers/sandbox.js';

/**
 * The Claude Code integration as Claude Code drives it: `init --claude` in a fresh clone, and
 * every hook handler run through the built CLI (`git consortium claude-hook <Event>`) with the
 * event JSON Claude Code sends on stdin, from a workspace folder, the top and a worktree.
 */
const { world, m, cleanup } = consortium(['elena', 'yuki']);
const { elena, yuki } = m;
test.after(cleanup);

const schema = JSON.parse(
  readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'claude-code-settings.schema.json'), 'utf8'),
);
const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);

const CONV = '3f0c2a9e-5b7d-4e1f-9a2b-6c8d0e4f1a2b';
const ELENA_WS = 'consortium/elena-vasquez';
const ENV_FILE = path.join(world.root, 'claude-env', 'sessionstart-hook-0.sh');

interface HookOptions {
  /** Folder of the conversation, relative to the clone (or absolute). */
  cwd?: string;
  conversation?: string;
  env?: NodeJS.ProcessEnv;
}

/** What Claude Code sends: the common fields and the event's own. */
function eventJson(machine: Machine, name: string, fields: Record<string, unknown>, options: HookOptions) {
  const conversation = options.conversation ?? CONV;
  return JSON.stringify({
    session_id: conversation,
    transcript_path: path.join(
      world.root,
      'home',
      machine.name,
      '.claude',
      'projects',
      'x',
      `${conversation}.jsonl`,
    ),
    cwd: path.resolve(machine.dir, options.cwd ?? '.'),
    permission_mode: 'default',
    hook_event_name: name,
    ...fields,
  });
}

function hook(
  machine: Machine,
  name: string,
  fields: Record<string, unknown>,
  options: HookOptions = {},
): Result {
  return machine.gc(['claude-hook', name], {
    cwd: options.cwd,
    env: options.env,
    input: eventJson(machine, name, fields, options),
  });
}

const answer = (r: Result) => {
  assert.is(r.code, 0, r.stderr);
  return r.stdout.trim() ? JSON.parse(r.stdout) : {};
};
const sessionsOf = (machine: Machine, all = false) =>
  json(machine, ['status', ...(all ? ['--all'] : [])]).sessions as any[];
const mineOf = (machine: Machine, conversation = CONV) =>
  sessionsOf(machine, true).filter(
    (s) => s.agent.kind === 'claude-code' && s.agent.sessionId === conversation,
  );
const refs = (machine: Machine) => must(machine.git(['for-each-ref', 'refs/consortium/'])).stdout;
const edit = (machine: Machine, file: string) => ({
  tool_name: 'Edit',
  tool_input: { file_path: path.join(machine.dir, file), old_string: 'line 3', new_string: 'line three' },
  tool_use_id: 'toolu_01',
});

// --- init --claude ------------------------------------------------------------------------

const WORKSPACES = ['consortium/elena-vasquez', 'consortium/yuki-tanaka', 'consortium/aria-blackwood'];
const COMMAND_FILES = ['consortium-compact.md', 'mcp-resilient-sync.md', 'claude-orient-consortium.md'];

/** Every file init --claude may touch, with its content (or link target) hashed. */
function snapshot(machine: Machine): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    const full = path.join(machine.dir, rel);
    if (!existsSync(full) && !isLink(full)) return;
    const st = lstatSync(full);
    if (st.isSymbolicLink()) out[rel] = `link ${readFileSync(full, 'utf8').length}`;
    else if (st.isDirectory()) for (const name of readdirSync(full)) walk(path.join(rel, name));
    else out[rel] = `${st.mode.toString(8)} ${createHash('sha1').update(readFileSync(full)).digest('hex')}`;
  };
  for (const place of ['.', ...WORKSPACES]) {
    walk(path.join(place, '.claude'));
    walk(path.join(place, 'claude-consortium-session'));
    walk(path.join(place, 'claude-orient-consortium'));
  }
  return out;
}

function isLink(file: string) {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

test('init --claude keeps existing settings, writes commands and hooks at the top and in every workspace', () => {
  // What the consortium already has: shared settings with permissions and a hook of their
  // own, and a workspace's local settings calling the old scripts.
  const existing = {
    permissions: { allow: ['Bash(npm test)'], deny: ['Read(./.env)'] },
    hooks: { PostToolUse: [{ matcher: 'Write', hooks: [{ type: 'command', command: 'ruff format' }] }] },
  };
  elena.write('.claude/settings.json', `${JSON.stringify(existing, null, 4)}\n`);
  const local = `${JSON.stringify({ permissions: { allow: ['Bash(./claude-consortium-session status)', 'Bash(./claude-orient-consortium)'] } }, null, 2)}\n`;
  elena.write(`${ELENA_WS}/.claude/settings.local.json`, local);
  must(elena.gc(['init', '--claude']));

  for (const place of ['.', ...WORKSPACES]) {
    for (const name of COMMAND_FILES) {
      const text = readFileSync(path.join(elena.dir, place, '.claude', 'commands', name), 'utf8');
      const front = /^---\n([\s\S]*?)\n---\n/.exec(text);
      assert.ok(front, `${place}/${name} has frontmatter`);
      const data = yaml.load(front![1]!) as any;
      assert.type(data.description, 'string');
      assert.match(data['allowed-tools'], /^Bash\(git consortium /);
    }
    const settings = JSON.parse(
      readFileSync(path.join(elena.dir, place, '.claude', 'settings.json'), 'utf8'),
    );
    const valid = validate({ ...settings });
    assert.ok(valid, `${place}: ${JSON.stringify(validate.errors)}`);
    for (const event of EVENTS)
      assert.ok(
        settings.hooks[event].some((g: any) => g.hooks.some((h: any) => h.command === hookCommand(event))),
        `${place}: ${event} hook`,
      );
    assert.ok(settings.permissions.allow.includes('Bash(git consortium orient)'));
    assert.ok(settings.permissions.allow.includes('Bash(git consortium mcp sync)'));
    assert.not.ok(
      settings.permissions.allow.some((r: string) => r === 'Bash(git consortium *)' || r === 'Bash'),
      'only the calls the commands make',
    );
  }
  const top = JSON.parse(readFileSync(path.join(elena.dir, '.claude', 'settings.json'), 'utf8'));
  assert.equal(top.permissions.deny, ['Read(./.env)']);
  assert.is(top.permissions.allow[0], 'Bash(npm test)');
  assert.equal(top.hooks.PostToolUse[0], existing.hooks.PostToolUse[0]);
  assert.match(
    readFileSync(path.join(elena.dir, '.claude', 'settings.json'), 'utf8'),
    /^\{\n {4}"/,
    'indentation kept',
  );
  assert.is(readFileSync(path.join(elena.dir, ELENA_WS, '.claude', 'settings.local.json'), 'utf8'), local);
});

test('init --claude a second time changes nothing, byte for byte', () => {
  const before = snapshot(elena);
  const status = must(elena.git(['status', '--porcelain', '--untracked-files=all'])).stdout;
  must(elena.gc(['init', '--claude']));
  assert.equal(snapshot(elena), before);
  assert.is(must(elena.git(['status', '--porcelain', '--untracked-files=all'])).stdout, status);
});

test('init --claude updates what an earlier version wrote: commands with the old marker, hooks without Bash or run plainly', () => {
  const file = path.join(elena.dir, ELENA_WS, '.claude', 'commands', 'consortium-compact.md');
  const template = readFileSync(file, 'utf8');
  writeFileSync(
    file,
    '---\ndescription: old\n---\n<!-- Written by git consortium init --claude. -->\nOld body.\n',
  );
  const settings = path.join(elena.dir, ELENA_WS, '.claude', 'settings.json');
  const current = readFileSync(settings, 'utf8');
  // ... and the plain `git consortium claude-hook <Event>` of the versions before the hooks
  // started Node without the user's NODE_EXTRA_CA_CERTS.
  const prefix = JSON.stringify(
    hookCommand('SessionEnd').replace('git consortium claude-hook SessionEnd', ''),
  ).slice(1, -1);
  writeFileSync(settings, current.replaceAll('NotebookEdit|Bash', 'NotebookEdit').replaceAll(prefix, ''));
  must(elena.gc(['init', '--claude']));
  assert.is(readFileSync(file, 'utf8'), template);
  assert.is(readFileSync(settings, 'utf8'), current);
});

test('init --claude makes the hooks active in every folder of the clone, and offers the MCP server', () => {
  const local: any = JSON.parse(readFileSync(path.join(elena.dir, '.claude', 'settings.local.json'), 'utf8'));
  assert.ok(validate({ ...local }), JSON.stringify(validate.errors));
  for (const event of EVENTS)
    assert.ok(JSON.stringify(local.hooks[event]).includes(JSON.stringify(hookCommand(event))), event);
  assert.is(local.hooks.PreToolUse[0].matcher, 'Edit|Write|MultiEdit|NotebookEdit|Bash');
  const status = must(elena.git(['status', '--porcelain', '--untracked-files=all'])).stdout;
  assert.not.match(status, /^\?\? \.claude\/settings\.local\.json$/m, 'the local file is excluded from git');
  const mcp = JSON.parse(readFileSync(path.join(elena.dir, '.mcp.json'), 'utf8'));
  assert.equal(mcp.mcpServers.consortium, {
    type: 'stdio',
    command: 'git',
    args: ['consortium', 'mcp', 'serve'],
  });
  // A linked worktree has no untracked files of its own: post-checkout gives it the local settings.
  const tree = path.join(world.root, 'elena-topic');
  must(elena.git(['worktree', 'add', '-q', '-b', 'topic', tree]));
  assert.ok(
    JSON.stringify(
      JSON.parse(readFileSync(path.join(tree, '.claude', 'settings.local.json'), 'utf8')),
    ).includes('claude-hook PreToolUse'),
  );
  must(elena.git(['worktree', 'remove', '--force', tree]));
  must(elena.git(['branch', '-q', '-D', 'topic']));
});

test('doctor names where a conversation would start without hooks, and an untrusted root; uninstall takes ours out', () => {
  const carol = world.clone('carol');
  const home = carol.env().HOME!;
  // doctor exits 3 here (the clone's git hooks are not installed): its report is what counts.
  const doctor = () =>
    JSON.parse(carol.gc(['doctor', '--json']).stdout).checks.filter((c: any) =>
      c.name.startsWith('Claude Code'),
    );
  assert.equal(
    doctor().map((c: any) => c.level),
    ['warn'],
    'not set up yet',
  );
  const identity = () =>
    JSON.parse(carol.gc(['doctor', '--json']).stdout).checks.find((c: any) => c.name === 'identity');
  assert.is(identity().level, 'warn', 'no researcher named outside the workspace folders');
  assert.match(identity().message, 'git config consortium.researcher YOUR-ID (one of elena-vasquez');
  must(carol.git(['config', 'consortium.researcher', 'nobody']));
  assert.match(identity().message, 'git config consortium.researcher is "nobody", which is not a researcher');
  must(carol.git(['config', 'consortium.researcher', 'elena-vasquez']));
  assert.equal(
    [identity().level, identity().message],
    ['ok', 'elena-vasquez (git config consortium.researcher), wherever you start'],
  );
  must(carol.git(['config', '--unset', 'consortium.researcher']));
  must(carol.gc(['init', '--claude']));
  writeFileSync(path.join(home, '.claude.json'), JSON.stringify({ projects: {} }));
  const [hooks, trust] = doctor();
  assert.is(hooks.level, 'ok');
  assert.match(hooks.message, 'active wherever Claude Code starts');
  assert.is(trust.level, 'warn');
  assert.match(trust.message, 'has not been trusted');
  writeFileSync(
    path.join(home, '.claude.json'),
    JSON.stringify({ projects: { [realpathSync(carol.dir)]: { hasTrustDialogAccepted: true } } }),
  );
  const local = path.join(carol.dir, '.claude', 'settings.local.json');
  writeFileSync(local, '{}\n');
  const [only] = doctor();
  assert.is(only.level, 'warn');
  assert.match(only.message, 'a conversation started anywhere but the top, consortium/elena-vasquez/');
  assert.match(only.message, 'init --claude adds them');
  const removed = json(carol, ['uninstall']).changes.join('\n');
  assert.match(removed, '.mcp.json');
  assert.not.ok(existsSync(path.join(carol.dir, '.mcp.json')), 'a .mcp.json holding only our server goes');
  const top = JSON.parse(readFileSync(path.join(carol.dir, '.claude', 'settings.json'), 'utf8'));
  assert.not.match(JSON.stringify(top), 'claude-hook', 'our hooks are out of the settings');
  assert.ok(top.permissions, 'the rest stays');
});

test('the compatibility scripts work from a workspace, as the old permission rules call them', () => {
  assert.ok(isLink(path.join(elena.dir, ELENA_WS, 'claude-consortium-session')));
  const run = (script: string, args: string[]) =>
    spawnSync(`./${script}`, args, {
      cwd: path.join(elena.dir, ELENA_WS),
      env: elena.env(),
      encoding: 'utf8',
    });
  const status = run('claude-consortium-session', ['status', '--json']);
  assert.is(status.status, 0, status.stderr);
  assert.ok(Array.isArray(JSON.parse(status.stdout).sessions));
  const orient = run('claude-orient-consortium', ['--json']);
  assert.is(orient.status, 0, orient.stderr);
  assert.is(JSON.parse(orient.stdout).researcher, 'elena-vasquez', 'identity from the workspace folder');
  const wrong = run('claude-consortium-session', ['destroy']);
  assert.is(wrong.status, 2);
  assert.match(wrong.stderr, 'start|status|sync|compact');
});

test('an old script of the same name is left alone, and replaced with --force', () => {
  const old = '#!/bin/sh\necho "old session script: creates .claude-session-* lock files"\n';
  yuki.write('claude-consortium-session', old);
  const kept = must(yuki.gc(['init', '--claude']));
  assert.match(
    kept.stdout + kept.stderr,
    /claude-consortium-session is not the toolkit's: left alone \(--force replaces it\)/,
  );
  assert.is(readFileSync(path.join(yuki.dir, 'claude-consortium-session'), 'utf8'), old);
  must(yuki.gc(['init', '--claude', '--force']));
  const now = readFileSync(path.join(yuki.dir, 'claude-consortium-session'), 'utf8');
  assert.match(now, 'Written by git consortium init --claude');
  assert.match(now, 'exec git consortium');
});

test('a settings file that is not JSON stops init --claude (exit 2) before it writes any Claude Code file', () => {
  const aria = world.clone('aria');
  aria.write('consortium/aria-blackwood/.claude/settings.json', '{ "permissions": { "allow": [ }\n');
  const r = aria.gc(['init', '--claude']);
  assert.is(r.code, 2);
  assert.match(r.stderr, 'consortium/aria-blackwood/.claude/settings.json is not valid JSON');
  assert.not.ok(existsSync(path.join(aria.dir, '.claude')), 'nothing written at the top');
  assert.not.ok(existsSync(path.join(aria.dir, 'claude-consortium-session')));
  assert.is(
    readFileSync(path.join(aria.dir, 'consortium/aria-blackwood/.claude/settings.json'), 'utf8'),
    '{ "permissions": { "allow": [ }\n',
  );
});

// --- SessionStart -------------------------------------------------------------------------

test('SessionStart registers the conversation on the current branch, exports CONSORTIUM_SESSION, and orients', () => {
  const out = answer(
    hook(
      elena,
      'SessionStart',
      { source: 'startup', model: 'claude-opus' },
      { cwd: ELENA_WS, env: { CLAUDE_ENV_FILE: ENV_FILE } },
    ),
  );
  assert.is(out.hookSpecificOutput.hookEventName, 'SessionStart');
  const context: string = out.hookSpecificOutput.additionalContext;
  assert.match(context, 'Dr. Elena Vasquez (elena-vasquez)');
  assert.match(context, 'You are Elena', 'the researcher context file');
  const mine = mineOf(elena);
  assert.is(mine.length, 1);
  assert.is(mine[0].state, 'active');
  assert.is(mine[0].researcher, 'elena-vasquez');
  assert.is(mine[0].branch, 'main', 'registered on the branch checked out');
  assert.is(
    must(elena.git(['branch', '--show-current'])).stdout.trim(),
    'main',
    'the branch was not switched',
  );
  assert.match(context, mine[0].id);
  assert.match(readFileSync(ENV_FILE, 'utf8'), `export CONSORTIUM_SESSION='${mine[0].id}'`);
});

test('SessionStart again (resume) resumes the same session; the env file keeps one line per name', () => {
  const out = answer(
    hook(elena, 'SessionStart', { source: 'resume' }, { cwd: ELENA_WS, env: { CLAUDE_ENV_FILE: ENV_FILE } }),
  );
  assert.match(out.hookSpecificOutput.additionalContext, 'Resumed session');
  assert.is(mineOf(elena).length, 1);
  const lines = readFileSync(ENV_FILE, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('export CONSORTIUM_SESSION='));
  assert.is(lines.length, 1);
});

test('without the test switch, SessionStart leaves the sharing of its record to a detached process, which reaches the remote', async () => {
  const before = mineOf(elena)[0];
  const r = hook(
    elena,
    'SessionStart',
    { source: 'resume' },
    { cwd: ELENA_WS, env: { CONSORTIUM_NO_BACKGROUND: '' } },
  );
  assert.is(r.code, 0, r.stderr);
  let remote: any;
  for (let i = 0; i < 100; i++) {
    remote = json(yuki, ['status', '--fetch']).sessions.find((s: any) => s.id === before.id);
    if (remote && remote.heartbeatAt > before.heartbeatAt) break;
    await new Promise((done) => setTimeout(done, 100));
  }
  assert.ok(remote, "elena's session is on the remote");
  assert.ok(
    remote.heartbeatAt > before.heartbeatAt,
    "the resumed session's new heartbeat reached the remote",
  );
});

// --- PreToolUse ---------------------------------------------------------------------------

test("PreToolUse denies an edit of a file another researcher's session leases, naming them; a free file goes on", () => {
  const started = json(yuki, ['start', '-r', 'yuki-tanaka', '--intent', 'latency work']);
  must(yuki.gc(['lease', 'acquire', 'src/shared.py', '--reason', 'refactoring the timer']));
  must(elena.gc(['status', '--fetch']));
  const denied = answer(hook(elena, 'PreToolUse', edit(elena, 'src/shared.py'), { cwd: ELENA_WS }));
  assert.is(denied.hookSpecificOutput.hookEventName, 'PreToolUse');
  assert.is(denied.hookSpecificOutput.permissionDecision, 'deny');
  const reason: string = denied.hookSpecificOutput.permissionDecisionReason;
  assert.match(reason, 'src/shared.py');
  assert.match(reason, 'yuki-tanaka');
  assert.match(reason, started.id);
  assert.match(reason, /release/);
  const free = hook(
    elena,
    'PreToolUse',
    {
      tool_name: 'Write',
      tool_input: { file_path: path.join(elena.dir, ELENA_WS, 'results.md'), content: '# Results\n' },
    },
    { cwd: ELENA_WS },
  );
  assert.is(free.code, 0);
  assert.not.match(free.stdout, 'deny');
  // A MultiEdit of the leased file is denied too.
  const multi = answer(
    hook(elena, 'PreToolUse', {
      tool_name: 'MultiEdit',
      tool_input: { file_path: path.join(elena.dir, 'src', 'shared.py'), edits: [] },
    }),
  );
  assert.is(multi.hookSpecificOutput.permissionDecision, 'deny');
});

test("the installed hook, run through the shell as Claude Code runs it, does not pay for the user's NODE_EXTRA_CA_CERTS", () => {
  // Claude Code's own documentation has users behind a proxy set it; Node 20 reads the file as
  // it starts, and warns on every start once it has gone.
  const settings = JSON.parse(
    readFileSync(path.join(elena.dir, ELENA_WS, '.claude', 'settings.json'), 'utf8'),
  );
  const command: string = settings.hooks.PreToolUse[0].hooks[0].command;
  const event = eventJson(elena, 'PreToolUse', edit(elena, 'src/shared.py'), { cwd: ELENA_WS });
  const r = spawnSync('sh', ['-c', command], {
    cwd: path.join(elena.dir, ELENA_WS),
    env: elena.env({ NODE_EXTRA_CA_CERTS: path.join(world.root, 'gone', 'proxy-ca.pem') }),
    input: event,
    encoding: 'utf8',
  });
  assert.is(r.status, 0, r.stderr);
  assert.not.match(r.stderr, /extra certs/);
  assert.is(JSON.parse(r.stdout).hookSpecificOutput.permissionDecision, 'deny', 'the lease still holds');
});

const bashTool = (command: string) => ({
  tool_name: 'Bash',
  tool_input: { command },
  tool_use_id: 'toolu_02',
});

test('PreToolUse on Bash: a plain write to a leased file is denied; a command that writes nothing goes on', () => {
  const denied = answer(
    hook(elena, 'PreToolUse', bashTool("sed -i 's/line 3/x/' ../../src/shared.py"), { cwd: ELENA_WS }),
  );
  assert.is(denied.hookSpecificOutput.permissionDecision, 'deny');
  assert.match(denied.hookSpecificOutput.permissionDecisionReason, 'src/shared.py (sed -i)');
  assert.match(denied.hookSpecificOutput.permissionDecisionReason, 'leased by yuki-tanaka');
  for (const command of [
    'ls -la && git status',
    'python3 analysis.py > results.md',
    'cat ../../src/shared.py',
  ])
    assert.is(hook(elena, 'PreToolUse', bashTool(command), { cwd: ELENA_WS }).stdout, '', command);
});

test('PreToolUse on Bash: a way past the gate asks a person where one attends, and is denied where none can', () => {
  const attended = answer(hook(elena, 'PreToolUse', bashTool('git push --no-verify'), { cwd: ELENA_WS }));
  assert.is(attended.hookSpecificOutput.permissionDecision, 'ask');
  assert.match(attended.hookSpecificOutput.permissionDecisionReason, '--no-verify skips the pre-push gate');
  const headless = answer(
    hook(elena, 'PreToolUse', bashTool('HUSKY=0 git push'), {
      cwd: ELENA_WS,
      env: { CLAUDE_CODE_SESSION_ATTENDED: '0' },
    }),
  );
  assert.is(headless.hookSpecificOutput.permissionDecision, 'deny');
  assert.match(headless.hookSpecificOutput.permissionDecisionReason, 'ask a person');
  // The gate refuses an agent's override anyway: a person's click in Claude Code would not help.
  const override = answer(
    hook(elena, 'PreToolUse', bashTool('CONSORTIUM_OVERRIDE=ok git push'), { cwd: ELENA_WS }),
  );
  assert.is(override.hookSpecificOutput.permissionDecision, 'deny');
  const approve = answer(
    hook(elena, 'PreToolUse', bashTool("git consortium approve --reason 'mine'"), { cwd: ELENA_WS }),
  );
  assert.is(approve.hookSpecificOutput.permissionDecision, 'deny');
});

test('PostToolUse on Bash: a leased file changed by any command is reported with the holder and the restore', () => {
  const file = path.join(elena.dir, 'src', 'shared.py');
  const before = readFileSync(file, 'utf8');
  writeFileSync(file, `${before}changed behind the reader's back\n`);
  try {
    const told = answer(hook(elena, 'PostToolUse', bashTool('python3 tidy.py'), { cwd: ELENA_WS }));
    assert.is(told.decision, 'block');
    assert.match(told.reason, 'src/shared.py is leased by yuki-tanaka');
    const restore = /git -C \S+ restore --source=([0-9a-f]{40}) --staged --worktree -- src\/shared\.py/.exec(
      told.reason,
    );
    assert.ok(restore, told.reason);
    // The restore it names is let through by the pre-check, though it writes the leased file.
    const pre = hook(elena, 'PreToolUse', bashTool(restore![0]), { cwd: '.' });
    assert.is(pre.stdout, '', pre.stdout);
  } finally {
    writeFileSync(file, before);
  }
  assert.is(
    hook(elena, 'PostToolUse', bashTool('true'), { cwd: ELENA_WS }).stdout,
    '',
    'nothing to say once it is back',
  );
});

test('PreToolUse follows policy: lease warn gives a note instead of a denial, off says nothing', () => {
  const config = readFileSync(path.join(elena.dir, 'consortium.config.yaml'), 'utf8');
  try {
    elena.write('consortium.config.yaml', `${config}policy: { lease: warn }\n`);
    const warned = answer(hook(elena, 'PreToolUse', edit(elena, 'src/shared.py'), { cwd: ELENA_WS }));
    assert.is(warned.hookSpecificOutput.permissionDecision, undefined);
    assert.match(warned.hookSpecificOutput.additionalContext, 'leased by yuki-tanaka');
    elena.write('consortium.config.yaml', `${config}policy: { lease: off }\n`);
    const off = hook(elena, 'PreToolUse', edit(elena, 'src/shared.py'), { cwd: ELENA_WS });
    assert.is(off.code, 0);
    assert.is(off.stdout, '');
  } finally {
    elena.write('consortium.config.yaml', config);
  }
});

test("PreToolUse adds context, not a denial, for a protocol file another live session changed and another researcher's workspace", () => {
  yuki.commit('Tighten the protocol timing', { 'protocol/spec.md': '# Protocol\n\nline 3 (yuki)\n' });
  must(yuki.gc(['heartbeat']));
  must(yuki.gc(['sync']));
  must(elena.gc(['status', '--fetch']));
  const protocol = answer(hook(elena, 'PreToolUse', edit(elena, 'protocol/spec.md'), { cwd: ELENA_WS }));
  assert.is(protocol.hookSpecificOutput.permissionDecision, undefined);
  assert.match(protocol.hookSpecificOutput.additionalContext, 'protocol file');
  assert.match(protocol.hookSpecificOutput.additionalContext, 'yuki-tanaka');
  const foreign = answer(
    hook(elena, 'PreToolUse', edit(elena, 'consortium/yuki-tanaka/notes.md'), { cwd: ELENA_WS }),
  );
  assert.is(foreign.hookSpecificOutput.permissionDecision, undefined);
  assert.match(foreign.hookSpecificOutput.additionalContext, 'Dr. Yuki Tanaka');
  const outside = hook(elena, 'PreToolUse', {
    tool_name: 'Write',
    tool_input: { file_path: '/tmp/scratch.txt' },
  });
  assert.is(outside.code, 0);
  assert.is(outside.stdout, '', 'a file outside the repository is none of our business');
});

// --- PostToolUse --------------------------------------------------------------------------

test('PostToolUse records the file touched, and writes nothing when there is no news', () => {
  const file = `${ELENA_WS}/analysis.md`;
  elena.write(file, '# Analysis\n');
  const event = {
    tool_name: 'Write',
    tool_input: { file_path: path.join(elena.dir, file), content: '# Analysis\n' },
    tool_response: { success: true },
  };
  assert.is(hook(elena, 'PostToolUse', event, { cwd: ELENA_WS }).code, 0);
  const [session] = mineOf(elena);
  assert.ok(session.touchedFiles.includes(file), JSON.stringify(session.touchedFiles));
  const before = refs(elena);
  assert.is(hook(elena, 'PostToolUse', event, { cwd: ELENA_WS }).code, 0);
  assert.is(refs(elena), before, 'the same file again within the heartbeat interval: no write');
});

// --- PreCompact and SessionStart after compact --------------------------------------------

test('PreCompact writes a handoff that SessionStart with source compact brings back', () => {
  const run = hook(
    elena,
    'PreCompact',
    { trigger: 'manual', custom_instructions: 'keep the effect sizes' },
    { cwd: ELENA_WS },
  );
  assert.is(run.code, 0, run.stderr);
  const [session] = mineOf(elena);
  // Claude Code appends PreCompact's stdout to the summary prompt: plain sentences, never JSON.
  assert.not.match(run.stdout.trim(), /^[{[]/);
  assert.match(run.stdout, `session ${session.id}`);
  assert.match(run.stdout, 'Keep these points in the summary');
  const shown = json(elena, ['handoff', '--show', '--researcher', 'elena-vasquez']);
  assert.match(JSON.stringify(shown), session.id);
  assert.match(JSON.stringify(shown), 'keep the effect sizes');
  const back = answer(hook(elena, 'SessionStart', { source: 'compact' }, { cwd: ELENA_WS }));
  const context: string = back.hookSpecificOutput.additionalContext;
  assert.match(context, `Latest handoff (session ${session.id}`);
  assert.match(context, 'keep the effect sizes');
  assert.is(mineOf(elena).length, 1, 'compaction keeps the same session');
});

test('/consortium-compact as the agent runs it: compact with its summary, then the compacted conversation starts from it', () => {
  const sessionId = /export CONSORTIUM_SESSION='([^']+)'/.exec(readFileSync(ENV_FILE, 'utf8'))![1]!;
  const summaryFile = path.join(world.root, 'consortium-summary.md');
  writeFileSync(
    summaryFile,
    'Effect sizes recomputed with bootstrap CIs.\n\nNext steps:\n- rerun the power analysis\n',
  );
  // The agent's Bash commands carry CONSORTIUM_SESSION from CLAUDE_ENV_FILE.
  must(
    elena.gc(['compact', '--summary-file', summaryFile], {
      cwd: ELENA_WS,
      env: { CONSORTIUM_SESSION: sessionId },
    }),
  );
  assert.is(sessionsOf(elena, true).find((s) => s.id === sessionId).state, 'ended');
  const back = answer(
    hook(elena, 'SessionStart', { source: 'compact' }, { cwd: ELENA_WS, env: { CLAUDE_ENV_FILE: ENV_FILE } }),
  );
  const context: string = back.hookSpecificOutput.additionalContext;
  assert.match(context, `Latest handoff (session ${sessionId}`);
  assert.match(context, 'bootstrap CIs');
  assert.match(context, 'rerun the power analysis');
  const active = mineOf(elena).filter((s) => s.state === 'active');
  assert.is(active.length, 1, 'the compacted conversation works in a new session');
  assert.is.not(active[0].id, sessionId);
  assert.match(readFileSync(ENV_FILE, 'utf8'), `export CONSORTIUM_SESSION='${active[0].id}'`);
});

// --- A Claude Code worktree ---------------------------------------------------------------

test("a conversation in Claude Code's own worktree registers there, and leases hold there too", () => {
  must(elena.git(['worktree', 'add', '-q', '.claude/worktrees/stats', '-b', 'worktree-stats']));
  const tree = realpathSync(path.join(elena.dir, '.claude/worktrees/stats'));
  const conversation = '9d2e4c1a-0b3f-4a6e-8c7d-1e2f3a4b5c6d';
  const out = answer(
    hook(
      elena,
      'SessionStart',
      { source: 'startup' },
      { cwd: tree, conversation, env: { CONSORTIUM_RESEARCHER: 'elena-vasquez' } },
    ),
  );
  assert.match(out.hookSpecificOutput.additionalContext, 'elena-vasquez');
  assert.not.match(
    out.hookSpecificOutput.additionalContext,
    'git hooks do not run',
    'init made them active here',
  );
  const [session] = mineOf(elena, conversation);
  assert.is(session.worktree, tree);
  assert.is(session.branch, 'worktree-stats');
  const denied = answer(
    hook(
      elena,
      'PreToolUse',
      { tool_name: 'Edit', tool_input: { file_path: path.join(tree, 'src/shared.py') } },
      { cwd: tree, conversation },
    ),
  );
  assert.is(denied.hookSpecificOutput.permissionDecision, 'deny');
  assert.match(denied.hookSpecificOutput.permissionDecisionReason, 'src/shared.py is leased');
  assert.is(hook(elena, 'SessionEnd', { reason: 'other' }, { cwd: tree, conversation }).code, 0);
});

test('a conversation started where its researcher began a session by hand works in it, and the session stays theirs', () => {
  const tree = path.join(world.root, 'yuki-wt');
  const started = json(yuki, ['start', '-r', 'yuki-tanaka', '--worktree', tree, '--intent', 'benchmarks']);
  const conversation = '5a6b7c8d-1111-4222-8333-944455566677';
  const out = answer(
    hook(
      yuki,
      'SessionStart',
      { source: 'startup' },
      { cwd: path.join(tree, 'consortium/yuki-tanaka'), conversation },
    ),
  );
  assert.match(out.hookSpecificOutput.additionalContext, `You work in session ${started.id}`);
  assert.match(out.hookSpecificOutput.additionalContext, 'It stays theirs');
  const bound = sessionsOf(yuki, true).filter((s) => s.conversation?.sessionId === conversation);
  assert.equal(bound[0]?.agent, { kind: 'human' }, "the person's own agent marker is kept");
  assert.equal(
    bound.map((s) => s.id),
    [started.id],
    'no second session on that worktree and branch',
  );
});

test('a second conversation in a folder where one is at work is registered, and told to move', () => {
  const second = 'c0ffee00-2222-4333-8444-555566667777';
  const out = answer(
    hook(elena, 'SessionStart', { source: 'startup' }, { cwd: ELENA_WS, conversation: second }),
  );
  assert.match(out.hookSpecificOutput.additionalContext, 'two agents in one folder');
  assert.is(mineOf(elena, second).length, 1);
  const status = json(elena, ['status']);
  assert.ok(status.conflicts.some((c: any) => c.kind === 'worktree'));
  assert.is(hook(elena, 'SessionEnd', { reason: 'other' }, { cwd: ELENA_WS, conversation: second }).code, 0);
});

// --- SessionEnd ---------------------------------------------------------------------------

test('SessionEnd ends the session without touching the network (the remote is gone)', () => {
  const [session] = mineOf(elena).filter((s) => s.state === 'active');
  must(elena.git(['remote', 'set-url', 'origin', path.join(world.root, 'no-such-remote.git')]));
  try {
    const r = hook(elena, 'SessionEnd', { reason: 'prompt_input_exit' }, { cwd: ELENA_WS });
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stderr, '');
  } finally {
    must(elena.git(['remote', 'set-url', 'origin', world.remote]));
  }
  const after = sessionsOf(elena, true).find((s) => s.id === session.id);
  assert.is(after.state, 'ended');
  assert.is(mineOf(elena).filter((s) => s.state === 'active').length, 0);
  // A later SessionEnd for the same conversation has nothing left to do.
  assert.is(hook(elena, 'SessionEnd', { reason: 'other' }, { cwd: ELENA_WS }).code, 0);
});

// --- Malformed input ----------------------------------------------------------------------

test('truncated or malformed event JSON never blocks (never exit 2): a message, and nothing changed', () => {
  const before = refs(elena);
  const full = eventJson(
    elena,
    'SessionStart',
    { source: 'startup' },
    { cwd: ELENA_WS, conversation: 'fresh-1' },
  );
  for (const name of ['SessionStart', 'PreToolUse', 'PostToolUse', 'PreCompact', 'SessionEnd']) {
    for (const input of [full.slice(0, 40), '', 'null', '{"session_id": 42}']) {
      const r = elena.gc(['claude-hook', name], { cwd: ELENA_WS, input });
      assert.is(r.code, 1, `${name} with ${JSON.stringify(input)}: ${r.stderr}`);
      assert.is(r.stdout, '');
      assert.match(r.stderr, /^git-consortium: claude-hook /);
      assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
    }
  }
  for (const args of [['claude-hook'], ['claude-hook', 'Stop'], ['claude-hook', 'sessionstart']]) {
    const r = elena.gc(args, { input: full });
    assert.is.not(r.code, 2, args.join(' '));
  }
  assert.is(refs(elena), before);
});

test('a stdin that is never closed: a message after the limit, and the process ends (never exit 0 or 2)', async () => {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, 'claude-hook', 'PreToolUse'], {
    cwd: path.join(elena.dir, ELENA_WS),
    env: elena.env(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  child.stdin.write('{"session_id": "open');
  const ended = await new Promise<{ code: number | null; signal: string | null } | undefined>((done) => {
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      done(undefined);
    }, 20_000);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      done({ code, signal });
    });
  });
  child.stdin.destroy();
  assert.ok(ended, `ended by itself (${stderr})`);
  assert.ok(ended.code !== 0 && ended.code !== 2, `not a pass nor a block: ${JSON.stringify(ended)}`);
  assert.match(stderr, 'stdin was not closed within 10s');
  assert.ok(Date.now() - started < 15_000);
});

test('CONSORTIUM=0 turns the Claude Code hooks off', () => {
  const r = hook(
    elena,
    'SessionStart',
    { source: 'startup' },
    { cwd: ELENA_WS, conversation: 'off-1', env: { CONSORTIUM: '0' } },
  );
  assert.is(r.code, 0);
  assert.is(r.stdout, '');
  assert.is(mineOf(elena, 'off-1').length, 0);
});

test.run();
