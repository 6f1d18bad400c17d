import { parse } from '../core/args.js';
import { type CommandSpec, pick } from '../core/command.js';
import { EXIT, usageError } from '../core/errors.js';
import { colors, print, printJson } from '../core/output.js';
import { openBareRepo } from '../git/repo.js';
import { listVerbs } from './verbs.js';

/** What `server` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'server',
  usage: [
    'server install [--repo PATH] [--node PATH] [--json]',
    'server uninstall [--repo PATH]',
    'server doctor [--repo PATH] [--json]',
    'server hook-script [--hook pre-receive|post-receive] [--node PATH]',
  ],
  summary: 'the gate on the server: install, uninstall, doctor',
  details: `install: makes the bare repository everyone pushes to (--repo, default the current
folder) run the gate on every push, whatever the pusher's machine runs: its pre-receive and
post-receive hooks call this toolkit with the server's own Node.js (--node, default the one
running now; 20 or later). A hook the repository already had runs first. It also sets
receive.advertisePushOptions, and for server.identity signed the nonce seed and the
researchers' keys. The configuration is read from the default branch at every push, so a push
cannot loosen its own check.
The server refuses, naming the rule: a push that meets another researcher's lease or live
protocol work under server.policy (the same analysis as pre-push, against the server's own
records); a session record that does not read or does not fast-forward; a lease table that
does not fast-forward or is not exclusive; a gate event outside its writer's ref; the deletion
of a live session's record; a rewrite of the notes. Where it knows who pushes (server.identity:
signed, gitolite GL_USER, gitea GITEA_PUSHER_NAME, gitlab GL_USERNAME, whose value is the
researcher's id), live sessions, new leases and gate changes are their owner's, and a gate is
unlocked only by its owner (--force only where server.forceUnlock is allow).
A person who decides a refused push must land anyway says why, and it is recorded with their
name and marked landed: through the clients' gate, CONSORTIUM_OVERRIDE as for pre-push; without
client hooks, the push option consortium.override=<reason> of git push. Agents do neither.
The check is bounded (10 s); a crash or time-out refuses the push unless server.onError is
allow.
uninstall: removes the hooks and puts back those they ran first.
doctor: whether the hooks, Node.js, the toolkit, the push options and the configuration are in
order, and what is enforced and what not (ownership needs server.identity). Exits 1 when
something is wrong.
hook-script: prints the pre-receive (or post-receive) script, for hosts that take server hooks
their own way (Gitea's and GitLab's custom hooks folders).`,
  examples: [
    {
      run: 'server install --repo /srv/git/consortium.git',
      says: 'the gate runs on every push to that repository',
    },
    {
      run: 'server doctor --repo /srv/git/consortium.git',
      says: 'what the server enforces, and what is wrong',
    },
  ],
  options: {
    repo: { type: 'string' },
    node: { type: 'string' },
    hook: { type: 'string' },
    json: { type: 'boolean' },
  },
} as const satisfies CommandSpec;

export async function run(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  switch (verb) {
    case 'install':
      return install(rest);
    case 'uninstall':
      return uninstall(rest);
    case 'doctor':
      return doctor(rest);
    case 'hook-script':
      return hookScript(rest);
    case undefined:
      return listVerbs(command);
    default:
      throw usageError(
        `git consortium server takes install, uninstall, doctor or hook-script, not ${JSON.stringify(verb)}. See git consortium help server.`,
      );
  }
}

const bareRepo = (repo: string | undefined) => openBareRepo(repo ?? process.cwd());

async function install(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, pick(command, ['repo', 'node', 'json']));
  const repo = bareRepo(values.repo);
  const { install } = await import('../services/server-install.js');
  const report = await install(repo, values.node ?? process.execPath);
  if (values.json) printJson(report);
  else {
    print(
      `The gate on the server is installed in ${report.repo}, with Node.js ${report.node.version} (${report.node.path}).`,
    );
    for (const h of report.hooks)
      print(`  ${h.hook}: ${h.path}${h.chained ? ` (runs the ${h.hook} hook that was there first)` : ''}`);
    for (const s of report.settings) print(`  set ${s}`);
    print('git consortium server doctor --repo <this repository> says what it enforces.');
  }
  return EXIT.ok;
}

async function uninstall(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, pick(command, ['repo']));
  const repo = bareRepo(values.repo);
  const { uninstall } = await import('../services/server-install.js');
  const { removed, restored } = uninstall(repo);
  if (removed.length === 0)
    print(`No gate of git-consortium is installed in ${repo.gitDir}; nothing changed.`);
  for (const file of removed)
    print(`Removed ${file}${restored.includes(file) ? ', and put back the hook it ran first' : ''}.`);
  return EXIT.ok;
}

async function doctor(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, pick(command, ['repo', 'json']));
  const repo = bareRepo(values.repo);
  const { doctor } = await import('../services/server-install.js');
  const report = await doctor(repo);
  const ok = report.checks.every((c) => c.ok);
  if (values.json) printJson({ repo: repo.gitDir, ok, ...report });
  else {
    const c = colors(undefined, 1);
    print(`The gate on the server in ${repo.gitDir}:`);
    for (const check of report.checks)
      print(`  ${check.ok ? c.green('ok') : c.red('PROBLEM')}  ${check.check}: ${check.detail}`);
    print('Enforced:');
    for (const line of report.enforced) print(`  - ${line}`);
    if (report.notEnforced.length) {
      print('Not enforced:');
      for (const line of report.notEnforced) print(`  - ${line}`);
    }
  }
  return ok ? EXIT.ok : EXIT.refused;
}

async function hookScript(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, pick(command, ['hook', 'node']));
  const { HOOKS, checkNode, hookScript } = await import('../services/server-install.js');
  const hook = values.hook ?? 'pre-receive';
  if (!(HOOKS as readonly string[]).includes(hook))
    throw usageError(`--hook takes ${HOOKS.join(' or ')}, not ${JSON.stringify(hook)}.`);
  const node = checkNode(values.node ?? process.execPath);
  print(hookScript(hook as (typeof HOOKS)[number], node.path).trimEnd());
  return EXIT.ok;
}
