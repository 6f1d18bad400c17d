import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileWrites, gateBypasses } from '../../src/analysis/shell.js';

/** The Bash reader behind Claude Code's PreToolUse: which files a command writes, and ways past the gate. */
const CWD = '/repo/sub';
const writes = (command: string) => fileWrites(command, CWD).writes.map((w) => `${w.how} ${w.path}`);
const forms = (command: string) => [...new Set(gateBypasses(command).map((b) => b.form))];

test('redirections write their targets; descriptors and /dev/null do not', () => {
  assert.equal(writes('echo hi > out.txt'), ['redirection /repo/sub/out.txt']);
  assert.equal(writes('echo hi >>../log 2>err.txt'), [
    'redirection /repo/log',
    'redirection /repo/sub/err.txt',
  ]);
  assert.equal(writes('make >/dev/null 2>&1; ls >&2'), []);
  assert.equal(writes('cmd &> all.log'), ['redirection /repo/sub/all.log']);
  assert.equal(writes('cat < in.txt'), []);
});

test('tee, sed -i, perl -i and the file movers', () => {
  assert.equal(writes('echo x | tee -a a.md b.md'), ['tee /repo/sub/a.md', 'tee /repo/sub/b.md']);
  assert.equal(writes('sed -i \'s/a b/c/\' "my file.md"'), ['sed -i /repo/sub/my file.md']);
  assert.equal(writes('sed -i.bak -e s/a/b/ -e s/c/d/ x.md y.md'), [
    'sed -i /repo/sub/x.md',
    'sed -i /repo/sub/y.md',
  ]);
  assert.equal(writes('sed -n s/a/b/p x.md'), []);
  assert.equal(writes("perl -pi -e 's/a/b/' p.txt"), ['perl -i /repo/sub/p.txt']);
  assert.equal(writes('mv a.md b.md'), ['mv /repo/sub/a.md', 'mv /repo/sub/b.md', 'mv /repo/sub/b.md/a.md']);
  assert.equal(writes('cp -r src /abs/dest'), ['cp /abs/dest', 'cp /abs/dest/src']);
  assert.equal(writes('rm -rf build protocol/spec.md'), [
    'rm /repo/sub/build',
    'rm /repo/sub/protocol/spec.md',
  ]);
  assert.equal(writes('truncate -s 0 f; touch -d now g; dd if=/dev/zero of=h bs=1'), [
    'truncate /repo/sub/f',
    'touch /repo/sub/g',
    'dd /repo/sub/h',
  ]);
  assert.equal(writes('ln -sf target link'), ['ln /repo/sub/link']);
  assert.equal(writes('patch -p1 file.c < fix.diff'), ['patch /repo/sub/file.c']);
});

test('git commands that write the files they name, and the ones that cannot be read', () => {
  assert.equal(writes('git checkout main -- protocol/spec.md'), ['git checkout /repo/sub/protocol/spec.md']);
  assert.equal(writes('git restore --source=abc --staged x.md'), ['git restore /repo/sub/x.md']);
  assert.equal(writes('git -C .. rm -q spec.md'), ['git rm /repo/spec.md']);
  assert.equal(writes('git mv a b'), ['git mv /repo/sub/a', 'git mv /repo/sub/b']);
  for (const command of ['git apply fix.diff', 'git stash pop', 'git reset --hard HEAD~1', 'git pull'])
    assert.ok(fileWrites(command, CWD).unreadable, command);
  assert.not.ok(fileWrites('git status && git log', CWD).unreadable);
});

test('cd changes the folder of the commands after it', () => {
  assert.equal(writes('cd ../consortium/x && sed -i s/a/b/ f.md'), ['sed -i /repo/consortium/x/f.md']);
  const unknown = fileWrites('cd "$DIR" && rm f.md; rm /abs/g', CWD);
  assert.equal(
    unknown.writes.map((w) => w.path),
    ['/abs/g'],
  );
  assert.ok(unknown.unreadable);
});

test('expansions are unknown, never reported, and mark the command unreadable', () => {
  const r = fileWrites('rm "$FILE" *.md ~/x; echo ok', CWD);
  assert.equal(r.writes, []);
  assert.ok(r.unreadable);
  assert.not.ok(fileWrites('ls -la; grep -r foo .', CWD).unreadable);
});

test('heredoc bodies are not commands; $(...), backticks and bash -c are read', () => {
  assert.equal(writes("cat > notes.md <<'EOF'\nrm -rf everything\nEOF\necho done"), [
    'redirection /repo/sub/notes.md',
  ]);
  assert.equal(writes('echo $(rm inner.txt)'), ['rm /repo/sub/inner.txt']);
  assert.equal(writes('x=`tee t.txt`'), ['tee /repo/sub/t.txt']);
  assert.equal(writes("bash -c 'echo x > f'"), ['redirection /repo/sub/f']);
  assert.equal(writes('sudo -u me env A=1 nohup timeout 5 sed -i s/a/b/ q.md'), ['sed -i /repo/sub/q.md']);
});

test('garbage never throws and returns at once, unreadable', () => {
  for (const junk of [
    'echo "unterminated',
    "sed -i 's/x",
    '(((',
    '$(((((',
    `${'('.repeat(10_000)}`,
    'cat <<EOF',
    '>',
  ]) {
    const started = Date.now();
    const r = fileWrites(junk, CWD);
    assert.ok(Date.now() - started < 1000, junk.slice(0, 20));
    assert.type(r.unreadable, 'boolean');
    gateBypasses(junk);
  }
  assert.ok(fileWrites('echo "unterminated', CWD).unreadable);
});

test('every way past the gate, in two spellings each', () => {
  assert.equal(forms("CONSORTIUM_OVERRIDE='agreed' git push"), ['override-variable']);
  assert.equal(forms('export CONSORTIUM_OVERRIDE=x; git push'), ['override-variable']);
  assert.equal(forms('env CONSORTIUM_OVERRIDE= git push origin HEAD'), ['override-variable']);
  assert.equal(forms('git push -o consortium.override="ok" origin main'), ['push-option']);
  assert.equal(forms('git push --push-option=Consortium.override=x'), ['push-option']);
  assert.equal(forms('git push -oconsortium.override=x'), ['push-option']);
  assert.equal(forms('git push --no-verify'), ['no-verify']);
  assert.equal(forms('git push origin main --no-verify'), ['no-verify']);
  assert.equal(forms('HUSKY=0 git push'), ['husky-off']);
  assert.equal(forms('export HUSKY=0 && git push'), ['husky-off']);
  assert.equal(forms('CONSORTIUM=0 git push'), ['consortium-off']);
  assert.equal(forms('git -c core.hooksPath=/dev/null push'), ['hooks-path']);
  assert.equal(forms('git config core.hooksPath /tmp/none && git push'), ['hooks-path']);
  assert.equal(forms('git config --unset core.hooksPath'), ['hooks-path']);
  assert.equal(forms('GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=core.hooksPath GIT_CONFIG_VALUE_0=/x git push'), [
    'hooks-path',
  ]);
  assert.equal(forms('git push origin :refs/consortium/sessions/abc'), ['coordination-refs']);
  assert.equal(forms('git push --force origin refs/notes/consortium'), ['coordination-refs']);
  assert.equal(forms('git push origin +refs/consortium/leases:refs/consortium/leases'), [
    'coordination-refs',
  ]);
  assert.equal(forms('git update-ref -d refs/notes/consortium'), ['coordination-refs']);
  assert.equal(forms('git update-ref --stdin < plan'), ['coordination-refs']);
  assert.equal(forms('git notes --ref=consortium add -m x HEAD'), ['coordination-refs']);
  assert.equal(forms('git push --mirror backup'), ['coordination-refs']);
  assert.equal(forms("bash -c 'HUSKY=0 git push'"), ['husky-off']);
  assert.equal(forms('echo $(git push --no-verify)'), ['no-verify']);
  assert.equal(forms('rm .git/refs/consortium/leases'), ['coordination-refs']);
});

test('the spellings a reviewer found: quoting, unset agents, abbreviations, aliases, internal pushes', () => {
  assert.equal(forms('env -u CLAUDECODE -u AI_AGENT "CONSORTIUM_OVERRIDE=x" git push'), [
    'override-variable',
    'agent-env',
  ]);
  assert.equal(forms('export "CONSORTIUM_OVERRIDE=x"; git push'), ['override-variable']);
  assert.equal(forms('read CONSORTIUM_OVERRIDE <<<x; export CONSORTIUM_OVERRIDE; git push'), [
    'override-variable',
  ]);
  assert.equal(forms('unset CLAUDECODE AI_AGENT; git push'), ['agent-env']);
  assert.equal(forms('env -i PATH=/usr/bin git push'), ['agent-env']);
  assert.equal(forms('echo "export CONSORTIUM=0" >> "$CLAUDE_ENV_FILE"'), ['agent-env']);
  assert.equal(forms('CONSORTIUM_INTERNAL_PUSH=1 git push origin HEAD'), ['consortium-off']);
  assert.equal(forms('git push --no-verif'), ['no-verify']);
  assert.equal(forms('git push --mirr backup'), ['coordination-refs']);
  assert.equal(forms('git push --del origin refs/consortium/leases'), ['coordination-refs']);
  assert.equal(forms('git push --push-opt=consortium.override=x'), ['push-option']);
  assert.equal(forms('git -c alias.p="push --no-verify" p'), ['hooks-path']);
  assert.equal(forms('git --config-env core.hooksPath=HOME push'), ['hooks-path']);
  assert.equal(forms('GIT_CONFIG_GLOBAL=/tmp/cfg git push'), ['hooks-path']);
  assert.equal(forms('echo "[core] hooksPath = /x" >> .git/config'), ['coordination-refs']);
  assert.equal(forms("python3 -c 'x' && sed -i s/a/b/ .git/consortium/approvals.json"), [
    'coordination-refs',
  ]);
  assert.equal(forms('chmod -x .git/hooks/pre-push; rm .git/hooks/pre-push'), ['coordination-refs']);
  assert.equal(
    forms('echo yes | env -u CLAUDECODE script -qec "git  consortium approve --reason ok" /dev/null'),
    ['agent-env', 'approval'],
  );
  assert.equal(forms('git-consortium approve --reason ok'), ['approval']);
  assert.equal(forms('node /x/dist/cli.js approve --reason ok'), ['approval']);
});

test('near misses are not ways past the gate', () => {
  for (const command of [
    'git push -n',
    'git commit --no-verify -m x',
    'git commit -n -m x',
    'HUSKY=1 git push',
    'git config --get core.hooksPath',
    'git config core.hooksPath',
    'git push origin main',
    'git log refs/notes/consortium',
    'git notes --ref=consortium show HEAD',
    'echo CONSORTIUM_OVERRIDE',
    'grep HUSKY=0 file',
    'git update-ref refs/heads/topic HEAD',
    'git push --force origin topic',
    'git push --verbose origin main',
    'env FOO=1 git push',
    'git -c user.name=x commit -m y',
    'cat .git/config',
    'git consortium status',
  ])
    assert.equal(forms(command), [], command);
});

test.run();
