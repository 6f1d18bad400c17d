import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { batchSshCommand, firstWord, shellQuote } from '../../src/git/ssh-command.js';

/**
 * The ssh command the toolkit gives git for its bounded network calls: the user's own, as
 * git would choose it (GIT_SSH_COMMAND, core.sshCommand, GIT_SSH, ssh), with the options that
 * keep it from asking appended, and nothing of the user's text changed or exposed to a shell.
 */
const BATCH = ' -o BatchMode=yes -o ConnectTimeout=3';

test('with nothing of the user set, plain ssh in batch mode', () => {
  assert.is(batchSshCommand({}, {}, 3), `ssh${BATCH}`);
  assert.is(batchSshCommand({ GIT_SSH_COMMAND: '' }, {}, 7), 'ssh -o BatchMode=yes -o ConnectTimeout=7');
});

test("the user's GIT_SSH_COMMAND keeps its text, and gains the batch options", () => {
  const own = 'ssh -i "$HOME/.ssh/work key" -o ServerAliveInterval=5';
  assert.is(batchSshCommand({ GIT_SSH_COMMAND: own }, { sshCommand: 'ssh -i other' }, 3), `${own}${BATCH}`);
});

test('core.sshCommand (the key of this repository) is kept rather than hidden by GIT_SSH_COMMAND', () => {
  assert.is(
    batchSshCommand({}, { sshCommand: 'ssh -i ~/.ssh/lab_ed25519' }, 3),
    `ssh -i ~/.ssh/lab_ed25519${BATCH}`,
  );
  assert.is(
    batchSshCommand({ GIT_SSH: '/usr/bin/ssh' }, { sshCommand: '/usr/local/bin/ssh -4' }, 3),
    `/usr/local/bin/ssh -4${BATCH}`,
  );
});

test('a GIT_SSH program is quoted as one word, whatever its path holds', () => {
  const program = `/opt/my tools/it's $HOME/ssh`;
  const command = batchSshCommand({ GIT_SSH: program }, {}, 3)!;
  assert.is(command, `${shellQuote(program)}${BATCH}`);
  // git runs GIT_SSH_COMMAND as sh -c '<command> "$@"': the shell must see the path as it is.
  const seen = spawnSync('sh', ['-c', `printf '%s\\n' ${command} "$@"`, 'sh', 'host', 'git-upload-pack'], {
    encoding: 'utf8',
  }).stdout;
  assert.equal(seen.trim().split('\n'), [
    program,
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=3',
    'host',
    'git-upload-pack',
  ]);
});

test('the variant decides the options, as git reads it: override first, then the name', () => {
  assert.is(batchSshCommand({ GIT_SSH_COMMAND: 'plink -P 2222' }, {}, 3), 'plink -P 2222 -batch');
  assert.is(batchSshCommand({ GIT_SSH: 'C:\\PuTTY\\PLINK.EXE' }, {}, 3), `'C:\\PuTTY\\PLINK.EXE' -batch`);
  assert.is(batchSshCommand({ GIT_SSH_COMMAND: 'SSH.exe -v' }, {}, 3), `SSH.exe -v${BATCH}`);
  // TortoisePlink gets -batch from git itself; a program of another name, nothing it may not take.
  assert.is(batchSshCommand({ GIT_SSH: '/opt/TortoisePlink.exe' }, {}, 3), undefined);
  assert.is(batchSshCommand({ GIT_SSH_COMMAND: 'my-wrapper --flag' }, {}, 3), undefined);
  assert.is(batchSshCommand({ GIT_SSH_COMMAND: 'FOO=1 ssh' }, {}, 3), undefined);
  assert.is(
    batchSshCommand({ GIT_SSH_COMMAND: 'my-wrapper', GIT_SSH_VARIANT: 'ssh' }, {}, 3),
    `my-wrapper${BATCH}`,
  );
  assert.is(batchSshCommand({}, { sshCommand: 'ssh', variant: 'simple' }, 3), undefined);
  assert.is(batchSshCommand({ GIT_SSH_VARIANT: 'plink' }, { variant: 'ssh' }, 3), 'ssh -batch');
  assert.is(batchSshCommand({ GIT_SSH_VARIANT: 'nonsense' }, {}, 3), `ssh${BATCH}`);
});

test("the program's name is read as git's split_cmdline reads a command line", () => {
  assert.is(firstWord('  ssh -v'), 'ssh');
  assert.is(firstWord(`'/opt/my tools/ssh' -v`), '/opt/my tools/ssh');
  assert.is(firstWord('"/opt/a \\"b\\"/ssh" -v'), '/opt/a "b"/ssh');
  assert.is(firstWord('/opt/my\\ tools/ssh -v'), '/opt/my tools/ssh');
  assert.is(firstWord(`'unclosed ssh`), undefined);
  assert.is(batchSshCommand({ GIT_SSH_COMMAND: `'unclosed ssh` }, {}, 3), undefined);
  assert.is(
    batchSshCommand({ GIT_SSH_COMMAND: `'/opt/my tools/ssh' -v` }, {}, 3),
    `'/opt/my tools/ssh' -v${BATCH}`,
  );
});

test.run();
