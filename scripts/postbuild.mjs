// After tsc: make the CLI executable and write the man page from the same help text that
// `git consortium help` prints (git turns `git consortium --help` into `man git-consortium`).
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';

chmodSync(new URL('../dist/cli.js', import.meta.url), 0o755);

const { COMMON } = await import('../dist/help.js');
const COMMANDS = await (await import('../dist/commands/registry.js')).allCommands();
const { version } = await import('../dist/version.js');
const esc = (text) =>
  text
    .replace(/\\/g, '\\e')
    .replace(/^([.'])/gm, '\\&$1')
    .replace(/-/g, '\\-')
    .replace(/"/g, '\\(dq');
const page = [
  `.TH GIT\\-CONSORTIUM 1 "" "git-consortium ${version}" "Git Manual"`,
  '.SH NAME',
  'git\\-consortium \\- coordinate researchers and AI coding\\-agent sessions on one git repository',
  '.SH SYNOPSIS',
  '.B git consortium',
  '.I command',
  '[options]',
  '.SH DESCRIPTION',
  esc(
    'Sessions, leases, gate changes and notes are stored as git refs and notes and shared through the remote, so several machines coordinate through the git server they already have.',
  ),
  '.SH COMMANDS',
  ...COMMANDS.filter((c) => !c.hidden).flatMap((c) => [
    '.TP',
    ...c.usage.map((u, i) =>
      i ? `.br\n.B ${esc(`git consortium ${u}`)}` : `.B ${esc(`git consortium ${u}`)}`,
    ),
    esc(`${c.summary}. ${c.details.replace(/\n/g, ' ')}`),
    ...c.examples.flatMap((e) => ['.RS', '.TP', `.B ${esc(`git consortium ${e.run}`)}`, esc(e.says), '.RE']),
  ]),
  '.SH OPTIONS AND EXIT STATUS',
  esc(COMMON.replace(/\n/g, ' ')),
  '.SH SEE ALSO',
  '.BR git (1),',
  '.BR git\\-notes (1),',
  '.BR githooks (5)',
  '',
].join('\n');
mkdirSync(new URL('../man/', import.meta.url), { recursive: true });
writeFileSync(new URL('../man/git-consortium.1', import.meta.url), page);
