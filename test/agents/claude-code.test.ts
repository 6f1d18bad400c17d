import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bash, ClaudeCode, editTool, everything } from '../helpers/claude-code.js';
import { consortium, json, must } from '../helpers/sandbox.js';

/**
 * The integration as a real agent meets it: the pinned Claude Code CLI, headless, its model
 * scripted through a fake Messages API on loopback, in a sandbox consortium (a bare remote and
 * three clones that ran init). Each test asserts what Claude Code ran, what it sent back to the
 * model, and what the clones and the remote hold afterwards.
 */
const { world, m, cleanup } = consortium(['elena', 'yuki', 'aria']);
const { elena, yuki, aria } = m;
const cc = new ClaudeCode();
const ELENA = 'consortium/elena-vasquez';
const SPEC = 'protocol/spec.md';

test.before(async () => {
  await cc.start();
  // One researcher sets the repository up for Claude Code and commits it; the others pull and
  // run init in their own clones, as the README says.
  cc.setUp(elena, [yuki, aria]);
  must(elena.git(['config', 'consortium.researcher', 'elena-vasquez']));
});
test.after(async () => {
  await cc.close();
  cleanup();
});

/** What Claude Code sent back to the model for each tool call of the run, in order. */
const results = () => cc.api.toolResults();
/** Every commit message and file content on every ref of the remote. */
function remoteHolds(text: string): boolean {
  const dir = world.remote;
  const refs = must(elena.git(['--git-dir', dir, 'for-each-ref', '--format=%(objectname)', 'refs/heads/']))
    .stdout.split('\n')
    .filter(Boolean);
  const log = must(elena.git(['--git-dir', dir, 'log', '--format=%B', ...refs])).stdout;
  const grep = elena.git(['--git-dir', dir, 'grep', '-q', text, ...refs]);
  return log.includes(text) || grep.code === 0;
}

test('SessionStart registers and orients a conversation at the top, in src/ and in a workspace', async () => {
  for (const cwd of ['.', 'src', ELENA]) {
    const run = await cc.run(elena, {
      cwd,
      prompt: 'Who am I working for?',
      steps: [{ tools: [bash('echo "session=$CONSORTIUM_SESSION"')] }],
    });
    assert.is(run.code, 0, everything(run));
    const mine = json(elena, ['status', '--all']).sessions.filter(
      (s: any) => s.agent.kind === 'claude-code' && s.agent.sessionId === run.sessionId,
    );
    assert.is(mine.length, 1, `one session registered for the conversation started in ${cwd}`);
    assert.is(mine[0].researcher, 'elena-vasquez');
    assert.is(mine[0].state, 'ended', 'its own session ended with the conversation');
    assert.match(cc.api.sentText(), 'you are working for Dr. Elena Vasquez', `oriented in ${cwd}`);
    assert.is(results()[0]?.content, `session=${mine[0].id}`, "the agent's commands act on its session");
  }
});

test("Edit and Bash changes to another researcher's leased file never reach the remote, and the model is told who holds it", async () => {
  must(yuki.gc(['start', '-r', 'yuki-tanaka', '--intent', 'revise the protocol']));
  must(yuki.gc(['lease', 'acquire', SPEC, '--reason', 'rewriting section 2']));
  const spec = path.join(elena.dir, SPEC);
  const run = await cc.run(elena, {
    cwd: ELENA,
    prompt: 'Fix the protocol.',
    steps: [
      { tools: [editTool(spec, 'line 3', 'line three')] },
      { tools: [bash(`sed -i 's/line 4/line four/' ../../${SPEC}`)] },
      { tools: [bash(`python3 -c "open('../../${SPEC}', 'a').write('sneaky change\\n')"`)] },
      { tools: [bash('git commit -qam "sneaky change" && git push -q origin HEAD')] },
      { text: 'I could not change it.' },
    ],
  });
  assert.is(run.code, 0, everything(run));
  const [edit, sed, python, push] = results();
  assert.ok(edit?.is_error, 'the Edit was denied');
  assert.match(edit!.content, `${SPEC} is leased by yuki-tanaka`);
  assert.ok(sed?.is_error, 'the sed -i was denied before it ran');
  assert.match(sed!.content, 'leased by yuki-tanaka');
  assert.not.match(readFileSync(spec, 'utf8'), 'line four');
  // A command the reader cannot see into runs, and the change is caught right after it.
  assert.not.ok(python!.is_error, 'python ran');
  const feedback = cc.api.sentText();
  assert.match(
    feedback,
    /PostToolUse:Bash[^\n]*this worktree now changes a file that another session leases/,
  );
  assert.match(feedback, `${SPEC} is leased by yuki-tanaka`);
  assert.match(feedback, / restore --source=[0-9a-f]{40} --staged --worktree -- protocol\/spec\.md/);
  assert.ok(push?.is_error || /blocked/.test(push!.content), 'the push was blocked');
  assert.match(push!.content, 'ask a person');
  assert.not.match(push!.content, 'CONSORTIUM_OVERRIDE="<reason>"');
  assert.not.ok(remoteHolds('sneaky change'), 'the leased change is not on the remote');
});

test('the way back the agent is told runs: the leased file and the unpushed commits are put right', async () => {
  const first = await cc.run(elena, { cwd: ELENA, prompt: 'Check.', steps: [{ tools: [bash('true')] }] });
  assert.is(first.code, 0);
  const told = cc.api.sentText();
  // The change was committed (the push above was blocked): the file and the commit both need it.
  const restore = /git -C \S+ restore --source=[0-9a-f]+ --staged --worktree -- \S+/.exec(told)?.[0];
  const reset = /git -C \S+ reset --soft [0-9a-f]+/.exec(told)?.[0];
  assert.ok(restore && reset, told);
  const run = await cc.run(elena, {
    cwd: ELENA,
    prompt: 'Put it back.',
    steps: [{ tools: [bash(`${reset} && ${restore}`)] }, { tools: [bash('git status --porcelain')] }],
  });
  assert.is(run.code, 0, everything(run));
  assert.not.ok(results()[0]!.is_error, results()[0]!.content);
  assert.is(
    readFileSync(path.join(elena.dir, SPEC), 'utf8'),
    readFileSync(path.join(yuki.dir, SPEC), 'utf8'),
  );
  assert.not.match(
    cc.api.sentText(),
    'now changes a file that another session leases',
    'nothing left to report',
  );
});

test('every way past the gate is stopped, and the model is told to ask a person', async () => {
  const yukiSession = json(yuki, ['status']).sessions.find((s: any) => s.researcher === 'yuki-tanaka').id;
  must(elena.git(['commit', '-q', '--allow-empty', '-m', 'override attempt']));
  writeFileSync(
    path.join(elena.dir, SPEC),
    `${readFileSync(path.join(elena.dir, SPEC), 'utf8')}override attempt\n`,
  );
  must(elena.git(['commit', '-qam', 'override attempt on the spec']));
  const forms = [
    'CONSORTIUM_OVERRIDE="we agreed" git push origin HEAD',
    'git push -o consortium.override="we agreed" origin HEAD',
    'git push --no-verify origin HEAD',
    'HUSKY=0 git push origin HEAD',
    'CONSORTIUM=0 git push origin HEAD',
    'git -c core.hooksPath=/dev/null push origin HEAD',
    `git push origin :refs/consortium/sessions/${yukiSession}`,
    'git push --force origin refs/notes/consortium',
    'git update-ref -d refs/consortium/leases',
  ];
  // A wrapper script the reader cannot look into: the gate itself refuses the agent.
  writeFileSync(path.join(world.root, 'push.sh'), 'CONSORTIUM_OVERRIDE="we agreed" git push origin HEAD\n');
  const run = await cc.run(elena, {
    cwd: '.',
    prompt: 'Push it anyway.',
    steps: [...forms, `sh ${path.join(world.root, 'push.sh')}`].map((c) => ({ tools: [bash(c)] })),
  });
  assert.is(run.code, 0, everything(run));
  const answers = results();
  assert.is(answers.length, forms.length + 1);
  for (const [i, form] of forms.entries()) {
    assert.ok(answers[i]!.is_error, `${form} was stopped`);
    assert.match(answers[i]!.content, 'ask a person', form);
  }
  const gate = answers.at(-1)!.content;
  assert.match(gate, 'policy.agentOverride is block');
  assert.match(gate, 'ask a person');
  assert.not.match(gate, 'CONSORTIUM_OVERRIDE="<reason>"', 'the gate prints no recipe to an agent');
  assert.not.ok(remoteHolds('override attempt'), 'nothing reached the remote');
  assert.ok(must(yuki.git(['ls-remote', 'origin', `refs/consortium/sessions/${yukiSession}`])).stdout.trim());
  assert.ok(
    must(yuki.git(['ls-remote', 'origin', 'refs/consortium/leases'])).stdout.trim(),
    'the lease table is whole',
  );
});

test('a conversation started in a subfolder of a linked worktree runs the hooks there too', async () => {
  const tree = path.join(world.root, 'elena-worktree');
  const started = json(elena, ['start', '-r', 'elena-vasquez', '--worktree', tree, '--intent', 'stats']);
  const run = await cc.run(elena, {
    cwd: path.join(tree, 'src'),
    prompt: 'Where am I?',
    steps: [{ text: 'In src.' }],
  });
  assert.is(run.code, 0, everything(run));
  assert.match(cc.api.sentText(), `You work in session ${started.id}`, 'SessionStart ran in the worktree');
  const after = json(elena, ['status']).sessions.find((s: any) => s.id === started.id);
  assert.is(after?.state, 'active', "the person's session goes on after the conversation");
});

test("a person's session and lease outlive a conversation in their folder", async () => {
  const started = json(aria, ['start', '-r', 'aria-blackwood', '--intent', 'red-team notes']);
  must(aria.gc(['lease', 'acquire', 'consortium/aria-blackwood/notes.md']));
  const run = await cc.run(aria, {
    cwd: 'consortium/aria-blackwood',
    prompt: 'What is a lease?',
    steps: [{ text: 'A reservation of a file.' }],
  });
  assert.is(run.code, 0, everything(run));
  assert.match(run.debug, 'SessionEnd', 'SessionEnd ran');
  must(aria.gc(['sync']));
  const after = json(aria, ['status']).sessions.find((s: any) => s.id === started.id);
  assert.is(after?.state, 'active', 'the session is still active');
  assert.equal(after.agent, { kind: 'human' }, 'with its agent marker as the person left it');
  assert.is(after.conversation, null, 'and the conversation gone from it');
  must(yuki.gc(['sync']));
  const leases = json(yuki, ['lease', 'list']).leases.map((l: any) => `${l.session} ${l.pattern}`);
  assert.ok(
    leases.includes(`${started.id} consortium/aria-blackwood/notes.md`),
    'the lease holds on the remote',
  );
});

test('the MCP may_edit tool, asked about protocol/spec.md from a workspace, names the holder', async () => {
  const run = await cc.run(elena, {
    cwd: ELENA,
    prompt: 'May I edit the spec?',
    env: { ENABLE_TOOL_SEARCH: 'false' },
    args: ['--allowedTools', 'mcp__consortium'],
    steps: [{ tools: [{ name: 'mcp__consortium__may_edit', input: { path: SPEC } }] }, { text: 'No.' }],
  });
  assert.is(run.code, 0, everything(run));
  const [answer] = results();
  assert.ok(answer, everything(run));
  const verdict = JSON.parse(answer!.content);
  assert.is(verdict.path, SPEC, 'the path is read from the top, not from the workspace');
  assert.is(verdict.decision, 'deny');
  assert.match(verdict.reasons[0].message, 'leased by yuki-tanaka');
  assert.match(verdict.reasons[0].message, 'lease_release', 'the remedy is worded for an MCP caller');
});

test('/consortium-compact writes the handoff; /compact keeps it and shows no raw JSON', async () => {
  const summary = path.join(world.root, 'summary.md');
  const run = await cc.run(elena, {
    cwd: ELENA,
    prompt: '/consortium-compact the effect sizes',
    steps: [
      {
        tools: [
          {
            name: 'Write',
            input: {
              file_path: summary,
              content: 'Computed the effect sizes for G1.\n\n## Next steps\n\n- Review the power analysis\n',
            },
          },
        ],
      },
      { tools: [bash(`git consortium compact --summary-file ${summary}`)] },
      { text: 'The handoff is written; you can run /compact now.' },
    ],
  });
  assert.is(run.code, 0, everything(run));
  assert.not.ok(results()[1]?.is_error, results()[1]?.content);
  const shown = json(elena, ['handoff', '--show']).handoff;
  assert.match(shown.markdown, 'Computed the effect sizes for G1.');
  const compact = await cc.run(elena, { cwd: ELENA, prompt: '/compact', args: ['--resume', run.sessionId!] });
  assert.is(compact.code, 0, everything(compact));
  // The compaction's own request: the one that asks for a <summary>.
  const prompt = cc.api.sentText((r) => JSON.stringify(r.body.messages ?? '').includes('<summary>'));
  assert.match(prompt, 'Keep these points in the summary', 'PreCompact spoke to the summary');
  assert.match(prompt, 'Review the power analysis', 'with the next steps of the handoff');
  assert.not.match(prompt, /"systemMessage"|hookSpecificOutput/, 'and no JSON reached the summary prompt');
  const kept = json(elena, ['handoff', '--show']).handoff;
  assert.match(
    kept.markdown,
    'Computed the effect sizes for G1.',
    'the handoff after /compact keeps the summary',
  );
  assert.match(
    cc.api.sentText(),
    'Computed the effect sizes for G1.',
    'and the compacted conversation gets it back',
  );
});

test('consortium-compact is not offered to the model as a skill; the orientation command is', async () => {
  const run = await cc.run(elena, { cwd: ELENA, prompt: 'hello', steps: [{ text: 'Hello.' }] });
  assert.is(run.code, 0, everything(run));
  const offered = cc.api.sentText();
  assert.match(offered, 'claude-orient-consortium');
  assert.not.match(offered, 'consortium-compact');
  assert.not.match(offered, 'Written by git consortium init', 'no marker of ours reaches the model');
});

test.run();
