import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { LOCAL_SETTINGS } from '../claude/install.js';
import { fileRunsOurHooks } from '../claude/settings.js';
import { parse } from '../core/args.js';
import type { CommandSpec } from '../core/command.js';
import { checkGateOwners } from '../core/config.js';
import { ConsortiumError } from '../core/errors.js';
import { loadConfig } from '../core/load-config.js';
import { colors, print, printJson } from '../core/output.js';
import { researchersOf } from '../core/workspaces.js';
import { configValues } from '../git/config.js';
import { probeRemote } from '../git/remote.js';
import { gitVersion, openRepo, type Repo } from '../git/repo.js';
import {
  findLeftovers,
  hooksDir,
  readInstallRecord,
  unchainedHooks,
  worktreeHooks,
  worktreesOf,
} from '../services/install.js';
import { NOTES_REF } from '../store/refs.js';
import { hasRemote } from '../store/remote.js';

/** What `doctor` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'doctor',
  usage: ['doctor [--json]'],
  summary: 'check git, hooks, configuration, remote and Claude Code files',
  details: `Checks the git version, the configuration, hooks installed and active in every worktree of the repository, repository hooks added since init, the toolkit reachable by the hooks, notes settings, the remote, who you are outside a workspace folder, the Claude Code files and leftovers of the old scripts. Exits 3 when a check fails.`,
  examples: [
    { run: 'doctor', says: 'whether hooks, configuration, identity and remote are as they should be' },
    { run: 'doctor --json', says: 'the same checks as JSON' },
  ],
  options: {
    json: { type: 'boolean' },
  },
} as const satisfies CommandSpec;

/**
 * `doctor`: what stands between this repository and working coordination. Each check is ok,
 * warn or fail; exit 3 when one fails (an environment problem), 0 otherwise.
 */
type Level = 'ok' | 'warn' | 'fail';
interface Check {
  name: string;
  level: Level;
  message: string;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(command.name, argv, command.options);
  const checks: Check[] = [];
  const add = (name: string, level: Level, message: string) => checks.push({ name, level, message });

  const [major, minor, patch] = gitVersion();
  const version = `${major}.${minor}.${patch}`;
  // openRepo refuses a git that is too old, with the message to show.
  let repo: Repo | undefined;
  try {
    repo = openRepo();
    add('git', 'ok', `git ${version}`);
  } catch (error) {
    if (!(error instanceof ConsortiumError)) throw error;
    add(/too old/.test(error.message) ? 'git' : 'repository', 'fail', error.message);
  }
  if (repo) await repositoryChecks(repo, add);

  const failed = checks.some((c) => c.level === 'fail');
  if (values.json) printJson({ ok: !failed, checks });
  else {
    const c = colors();
    const mark = { ok: c.green('ok  '), warn: c.yellow('warn'), fail: c.red('FAIL') };
    for (const check of checks) print(`${mark[check.level]}  ${check.name}: ${check.message}`);
  }
  return failed ? 3 : 0;
}

async function repositoryChecks(repo: Repo, add: (name: string, level: Level, message: string) => void) {
  let config: Awaited<ReturnType<typeof loadConfig>> | undefined;
  try {
    config = await loadConfig(repo.top);
    const researchers = researchersOf(config, repo.top);
    if (!config.researchersListed) checkGateOwners(config, researchers);
    add(
      'configuration',
      config.file ? 'ok' : 'warn',
      `${config.file ?? 'none (defaults; git consortium init writes one)'}; ${researchers.size} researcher${researchers.size === 1 ? '' : 's'}, ${config.protocol.length} protocol pattern${config.protocol.length === 1 ? '' : 's'}`,
    );
  } catch (error) {
    add('configuration', 'fail', error instanceof Error ? error.message : String(error));
  }

  const record = readInstallRecord(repo);
  add(
    'hooks installed',
    record ? 'ok' : 'fail',
    record
      ? `by git consortium init on ${record.installedAt}, in ${hooksDir(repo)}`
      : 'no: run git consortium init',
  );
  for (const worktree of worktreesOf(repo)) {
    const state = worktreeHooks(repo, worktree);
    const here = path.resolve(worktree) === repo.top;
    add(
      here ? 'hooks active in this worktree' : `hooks active in ${worktree}`,
      state.active ? 'ok' : here || record ? 'fail' : 'warn',
      state.active ? 'yes' : `no: ${state.problem}`,
    );
  }
  if (record) {
    const unchained = unchainedHooks(repo);
    if (unchained.length)
      add(
        'repository hooks',
        'warn',
        `${unchained.join(', ')} appeared after init and do not run yet: run git consortium init`,
      );
    const onPath = (process.env.PATH ?? '')
      .split(path.delimiter)
      .some((d) => d && existsSync(path.join(path.resolve(repo.top, d), 'git-consortium')));
    const local = existsSync(path.join(repo.commonDir, '..', 'node_modules', '.bin', 'git-consortium'));
    add(
      'toolkit for the hooks',
      onPath || local ? 'ok' : 'warn',
      onPath || local
        ? 'git-consortium is found by the hooks'
        : 'git-consortium is not on PATH nor in node_modules/.bin: the hooks will do nothing',
    );
  }

  const rewrite = configValues(repo, 'notes.rewriteRef');
  add(
    'notes settings',
    rewrite.includes(NOTES_REF) ? 'ok' : 'warn',
    rewrite.includes(NOTES_REF)
      ? `notes.rewriteRef includes ${NOTES_REF}: notes follow amend and rebase`
      : `notes.rewriteRef does not include ${NOTES_REF}: run git consortium init`,
  );

  const remote = config?.remote ?? 'origin';
  if (!hasRemote(repo, remote))
    add('remote', 'warn', `there is no remote named ${remote}: nothing is shared`);
  else {
    const r = await probeRemote(repo, remote, 5000);
    add(
      'remote',
      r.status === 0 ? 'ok' : 'warn',
      r.status === 0
        ? `${remote} answers`
        : `${remote} ${r.timedOut ? 'did not answer within 5s' : `cannot be reached (${r.stderr.trim().split('\n')[0] ?? ''})`}`,
    );
  }

  if (config) add('identity', ...identityCheck(repo, [...researchersOf(config, repo.top).keys()]));

  for (const check of claudeChecks(
    repo.top,
    config ? [...researchersOf(config, repo.top).values()].map((r) => r.workspace) : [],
  ))
    add(check.name, check.level, check.message);

  if (config) {
    const left = findLeftovers(
      repo,
      [...researchersOf(config, repo.top).values()].map((r) => r.workspace),
    );
    const count = left.files.length + left.tracked.length + left.refs.length;
    if (count)
      add(
        'old scripts',
        'warn',
        `${count} leftover${count === 1 ? '' : 's'} of the old session scripts (.claude-session-* files, refs/claude/session-*): git consortium init removes them`,
      );
  }
}

/**
 * Who you are taken for where no workspace folder says it (the top of the worktree, src/): a
 * conversation started there registers no session unless CONSORTIUM_RESEARCHER or git config
 * consortium.researcher names a researcher of the consortium.
 */
function identityCheck(repo: Repo, known: string[]): [Level, string] {
  const fromEnv = process.env.CONSORTIUM_RESEARCHER;
  const [configured] = configValues(repo, 'consortium.researcher').slice(-1);
  const [id, source] = fromEnv
    ? [fromEnv, 'CONSORTIUM_RESEARCHER']
    : configured
      ? [configured, 'git config consortium.researcher']
      : [undefined, ''];
  if (id === undefined)
    return [
      'warn',
      'known only inside a workspace folder: a conversation or command started elsewhere (the top, src/) ' +
        `cannot tell which researcher you are; name yourself with git config consortium.researcher YOUR-ID (one of ${known.join(', ')})`,
    ];
  if (!known.includes(id))
    return ['warn', `${source} is ${JSON.stringify(id)}, which is not a researcher of this consortium`];
  return ['ok', `${id} (${source}), wherever you start`];
}

/**
 * Where Claude Code would start without our hooks (SPEC section 9): everywhere in this
 * worktree is covered by the top's settings.local.json; without it, only the folders whose own
 * settings.json holds them. And whether the git root is trusted, without which Claude Code
 * ignores the allow rules of the commands.
 */
function claudeChecks(top: string, workspaces: string[]): Check[] {
  const runsOurs = (file: string) => fileRunsOurHooks(path.join(top, file));
  const starts = ['.', ...workspaces].filter((p) => runsOurs(path.join(p, '.claude', 'settings.json')));
  const local = runsOurs(LOCAL_SETTINGS);
  if (!local && starts.length === 0)
    return [
      { name: 'Claude Code hooks', level: 'warn', message: 'not set up: git consortium init --claude' },
    ];
  const checks: Check[] = [];
  if (local)
    checks.push({
      name: 'Claude Code hooks',
      level: 'ok',
      message: `active wherever Claude Code starts in this worktree (${LOCAL_SETTINGS})`,
    });
  else {
    const example = firstOtherFolder(top, starts);
    checks.push({
      name: 'Claude Code hooks',
      level: 'warn',
      message:
        `a conversation started anywhere but ${starts.map((p) => (p === '.' ? 'the top' : `${p}/`)).join(', ')} runs none of them` +
        `${example ? ` (${example}/, for one)` : ''}: git consortium init --claude adds them to ${LOCAL_SETTINGS}`,
    });
  }
  const trusted = trustedByClaude(top);
  if (trusted === false)
    checks.push({
      name: 'Claude Code trust',
      level: 'warn',
      message: `Claude Code has not been trusted in ${top}: it ignores the allow rules of the consortium commands until you start claude there once and accept`,
    });
  return checks;
}

/** A folder at the top of the worktree where no settings of ours would be read. */
function firstOtherFolder(top: string, covered: string[]): string | undefined {
  try {
    return readdirSync(top, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
      .map((e) => e.name)
      .sort()
      .find((name) => !covered.includes(name));
  } catch {
    return undefined;
  }
}

/** Whether ~/.claude.json records the trust dialog accepted for this folder (undefined: no Claude Code state). */
function trustedByClaude(top: string): boolean | undefined {
  const file = path.join(homedir(), '.claude.json');
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8'));
    return state?.projects?.[top]?.hasTrustDialogAccepted === true;
  } catch {
    return undefined;
  }
}
