import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { consortium, json, must } from '../helpers/sandbox.js';
import { Terminal } from '../helpers/terminal.js';

/**
 * What only a real terminal shows (bash in tmux): colour where it belongs and nowhere else,
 * progress lines while the network is slow, and completion at TAB, git's own included.
 */
const { m, world, cleanup } = consortium(['elena', 'yuki']);
const { elena, yuki } = m;
const env = { ...elena.env(), NO_COLOR: undefined, TERM: 'xterm-256color' };
const term = new Terminal(env, elena.dir, world.root);
test.before(() => {
  for (const x of [elena, yuki]) must(x.gc(['init']));
});
test.after(() => {
  term.close();
  cleanup();
});

const ESC = '\x1b[';
let n = 0;
/** Runs `command` in the terminal and returns what it printed there (escapes kept when asked). */
async function shown(command: string, options: { escapes?: boolean } = {}): Promise<string> {
  const mark = `mark-${++n}`;
  term.type(`echo ${mark}-start; ${command}; echo ${mark}-end`);
  const screen = await term.waitFor(new RegExp(`^${mark}-end`, 'm'), 20_000, options);
  const from = screen.lastIndexOf(`${mark}-start\n`);
  return screen.slice(from + `${mark}-start\n`.length, screen.lastIndexOf(`${mark}-end`));
}

test('colour on a terminal, and none with NO_COLOR, --color=never or through a pipe; --color=always forces it', async () => {
  json(elena, ['start', '-r', 'elena-vasquez']);
  assert.match(await shown('git consortium status', { escapes: true }), ESC);
  assert.not.match(await shown('NO_COLOR=1 git consortium status', { escapes: true }), ESC);
  assert.not.match(await shown('git consortium --color=never status', { escapes: true }), ESC);
  assert.not.match(await shown('git consortium status | cat', { escapes: true }), ESC);
  assert.match(await shown('git consortium --color=always status | cat', { escapes: true }), ESC);
});

test('a blocked push: the verdict comes first, in red', async () => {
  json(yuki, ['start', '-r', 'yuki-tanaka']);
  must(yuki.gc(['lease', 'acquire', 'TCP_SPECIFICATION.md']));
  elena.commit('spec wording', { 'TCP_SPECIFICATION.md': '# TCP specification\n\nelena\n' });
  const said = await shown('git push -q -u origin HEAD', { escapes: true });
  const first = said.split('\n').find((l) => l.trim()) ?? '';
  assert.match(first, 'push blocked', said);
  assert.match(first, `${ESC}31m`, 'in red');
  must(elena.git(['reset', '-q', '--hard', 'HEAD~1']));
  must(yuki.gc(['lease', 'release', '--all']));
});

test('a slow remote: the push says what the gate waits for, and rubs it out when done', async () => {
  // Every fetch from this clone waits two seconds before the remote answers; pushes do not.
  const slow = path.join(world.root, 'slow-upload-pack');
  writeFileSync(slow, '#!/bin/sh\nsleep 2\nexec git-upload-pack "$@"\n', { mode: 0o755 });
  must(elena.git(['config', 'remote.origin.uploadpack', slow]));
  try {
    elena.commit('a results note', { 'consortium/elena-vasquez/results.md': '# Results\n' });
    term.clear();
    term.type('git push -q -u origin HEAD; echo pushed-$?');
    await term.waitFor('git-consortium: fetching the coordination state from origin...', 5_000);
    const after = await term.waitFor(/^pushed-0$/m, 20_000);
    assert.not.match(after, 'fetching the coordination state', 'rubbed out');
    // Not a terminal: no progress at all.
    elena.commit('another note', { 'consortium/elena-vasquez/more.md': '# More\n' });
    const piped = elena.git(['push', '-q', 'origin', 'HEAD']);
    assert.is(piped.code, 0, piped.stderr);
    assert.not.match(piped.stderr, 'fetching');
  } finally {
    must(elena.git(['config', '--unset', 'remote.origin.uploadpack']));
  }
});

test("completion at TAB: git consortium's commands through git's own completion, verbs, gates and session ids", async () => {
  term.clear();
  await shown('source /usr/share/bash-completion/completions/git; eval "$(git consortium completion bash)"');
  // (The screen keeps no trailing blanks: "lease" whole, where "lea" was typed, is the completion.)
  term.type('git consortium lea', { enter: false });
  term.press('Tab');
  await term.waitFor(/^\$ git consortium lease ?$/m);
  term.press('C-u');
  term.type('git consortium gates unlock ', { enter: false });
  term.press('Tab'); // completes what all have in common ("G")
  await term.waitFor(/^\$ git consortium gates unlock G ?$/m);
  term.press('Tab');
  await new Promise((r) => setTimeout(r, 300));
  term.press('Tab'); // twice: list them
  const gates = await term.waitFor(/G1\s+G2\s+G3/);
  assert.match(gates, 'G3');
  term.press('C-u');
  const session = json(elena, ['status']).sessions.find((s: any) => s.researcher === 'elena-vasquez')
    .id as string;
  term.type(`git consortium end --session ${session.slice(-6, -1)}`, { enter: false });
  term.press('Tab');
  await term.waitFor(new RegExp(`^\\$ git consortium end --session ${session.slice(-6)}$`, 'm'));
  term.press('C-u');
  must(elena.gc(['end']));
  must(yuki.gc(['end']));
});

test('completion at TAB in zsh: git-consortium and git consortium alike', async () => {
  const zsh = new Terminal(env, yuki.dir, world.root, 'zsh');
  try {
    zsh.type('autoload -Uz compinit && compinit -u; eval "$(git consortium completion zsh)"; echo zsh-ready');
    await zsh.waitFor(/^zsh-ready$/m);
    zsh.type('git consortium lea', { enter: false });
    zsh.press('Tab');
    await zsh.waitFor(/^\$ git consortium lease ?$/m);
    zsh.press('C-u');
    zsh.type('git-consortium gates unlock G', { enter: false });
    zsh.press('Tab');
    await zsh.waitFor(/G1\s+G2\s+G3/);
  } finally {
    zsh.close();
  }
});

test.run();
