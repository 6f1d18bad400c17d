import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { type ServerConfig, serverConfig } from '../context/server-context.js';
import type { Config } from '../core/config.js';
import { environmentError, refusal } from '../core/errors.js';
import { randomHex } from '../core/ids.js';
import { childProcess } from '../core/lazy-modules.js';
import { CLI_PATH } from '../core/process.js';
import { configValue, setLocalConfig } from '../git/config.js';
import type { Repo } from '../git/repo.js';

/**
 * `server install | uninstall | doctor | hook-script` (SPEC section 13): the gate goes into a
 * bare repository as its pre-receive and post-receive hooks. Each hook is a small sh script
 * that names the server's own Node.js and toolkit by absolute path, runs a hook the repository
 * already had first (kept beside it as <hook>.consortium-chained), and refuses the push with a
 * clear message when Node.js or the toolkit has gone. Hosts that take hooks their own way
 * (Gitea's and GitLab's server hooks) get the same script from `server hook-script`.
 */
export const HOOKS = ['pre-receive', 'post-receive'] as const;
export type ServerHook = (typeof HOOKS)[number];
const MARKER = '# git-consortium: the gate on the server';
const CHAINED = '.consortium-chained';
const MIN_NODE = 20;

const quoted = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** The hook script, for a repository's hooks folder or a host's own hook mechanism. */
export function hookScript(hook: ServerHook, node: string, cli = CLI_PATH): string {
  const decide =
    hook === 'pre-receive'
      ? `"$NODE" "$CLI" hook pre-receive < "$input"
status=$?
# 0 lets the push in, 1 refuses it; anything else is a crash, which server.onError decides
# (as the gate last read it from the default branch; refuse until it has).
if [ "$status" -gt 1 ]; then
  if [ "$(cat "$GIT_DIR/consortium/server-on-error" 2>/dev/null)" = allow ]; then
    echo "git-consortium server: the gate crashed (exit $status); server.onError is allow, so the push goes ahead unchecked." >&2
    exit 0
  fi
  echo "git-consortium server: the gate crashed (exit $status), so the push is refused (server.onError is refuse). The administrator can see why with: git consortium server doctor" >&2
  exit 1
fi
exit "$status"`
      : `# Only when pre-receive left an override to record: an ordinary push starts no Node.js here.
if [ -z "$(ls -A "$GIT_DIR/consortium/server-pending" 2>/dev/null)" ]; then
  exit 0
fi
"$NODE" "$CLI" hook post-receive < "$input" || true`;
  const missing =
    hook === 'pre-receive'
      ? `echo "git-consortium server: the gate cannot run: $NODE or $CLI is gone from the server, so the push is refused. The administrator can see why with: git consortium server doctor" >&2
  exit 1`
      : 'exit 0';
  return `#!/bin/sh
${MARKER} (git consortium server install).
# Runs the ${hook} hook the repository had before, if any, then the toolkit's own.
NODE=${quoted(node)}
CLI=${quoted(cli)}
: "\${GIT_DIR:=.}"
input=$(mktemp "\${TMPDIR:-/tmp}/consortium-${hook}.XXXXXX") || exit 1
trap 'rm -f "$input"' EXIT
cat > "$input"
chained="$(dirname "$0")/${hook}${CHAINED}"
if [ -x "$chained" ]; then
  "$chained" "$@" < "$input" || exit $?
fi
if [ ! -x "$NODE" ] || [ ! -f "$CLI" ]; then
  ${missing}
fi
${decide}
`;
}

/** The Node.js the hooks will run, checked: its absolute path and version, or why it cannot be used. */
export function checkNode(node: string): { path: string; version: string } {
  const absolute = path.resolve(node);
  const r = childProcess().spawnSync(absolute, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const text = (r.stdout ?? '').trim();
  const major = Number(/^v(\d+)\./.exec(text)?.[1]);
  if (r.error || r.status !== 0 || !major)
    throw environmentError(
      `The server's gate needs Node.js ${MIN_NODE} or later on the server, and ${absolute} does not run (${r.error?.message ?? ((r.stderr || '').trim() || `exit ${r.status}`)}). Install Node.js there, or name it with --node PATH. Nothing was installed.`,
    );
  if (major < MIN_NODE)
    throw environmentError(
      `The server's gate needs Node.js ${MIN_NODE} or later, and ${absolute} is ${text}. Nothing was installed.`,
    );
  return { path: absolute, version: text };
}

/** The hooks folder of a bare repository (core.hooksPath, relative to it, or hooks/). */
export function hooksDir(repo: Repo): string {
  const configured = configValue(repo, 'core.hooksPath') ?? '';
  return configured
    ? path.resolve(repo.top, configured.replace(/^~(?=\/)/, process.env.HOME ?? '~'))
    : path.join(repo.gitDir, 'hooks');
}

const isOurs = (file: string) => existsSync(file) && readFileSync(file, 'utf8').includes(MARKER);

export interface InstallReport {
  repo: string;
  hooks: { hook: ServerHook; path: string; chained: boolean }[];
  node: { path: string; version: string };
  settings: string[];
}

export async function install(repo: Repo, node: string): Promise<InstallReport> {
  const checked = checkNode(node);
  if (!existsSync(CLI_PATH))
    throw environmentError(
      `The toolkit is not built (${CLI_PATH} is missing): run npm run build first. Nothing was installed.`,
    );
  const dir = hooksDir(repo);
  mkdirSync(dir, { recursive: true });
  const hooks: InstallReport['hooks'] = [];
  for (const hook of HOOKS) {
    const file = path.join(dir, hook);
    const chained = file + CHAINED;
    if (existsSync(file) && !isOurs(file)) {
      if (existsSync(chained))
        throw refusal(
          `${file} is not git-consortium's, and ${chained} exists already: move one of them away first. Nothing was changed.`,
        );
      renameSync(file, chained);
    }
    writeFileSync(file, hookScript(hook, checked.path));
    chmodSync(file, 0o755);
    hooks.push({ hook, path: file, chained: existsSync(chained) });
  }
  const settings = ['receive.advertisePushOptions=true (overrides by push option)'];
  setLocalConfig(repo, 'receive.advertisePushOptions', 'true');
  const { config } = await serverConfig(repo);
  writeOnError(repo, config);
  if (config.server.identity === 'signed') settings.push(...prepareSigned(repo, config));
  return { repo: repo.gitDir, hooks, node: checked, settings };
}

export function uninstall(repo: Repo): { removed: string[]; restored: string[] } {
  const dir = hooksDir(repo);
  const removed: string[] = [];
  const restored: string[] = [];
  for (const hook of HOOKS) {
    const file = path.join(dir, hook);
    if (!isOurs(file)) continue;
    rmSync(file);
    removed.push(file);
    if (existsSync(file + CHAINED)) {
      renameSync(file + CHAINED, file);
      restored.push(file);
    }
  }
  if (removed.length) setLocalConfig(repo, 'receive.advertisePushOptions', null);
  return { removed, restored };
}

const onErrorFile = (gitDir: string) => path.join(gitDir, 'consortium', 'server-on-error');

/** server.onError as the gate last read it (refuse until it has): for a gate out of time before it read it. */
export function lastOnError(gitDir: string): 'refuse' | 'allow' {
  try {
    return readFileSync(onErrorFile(gitDir), 'utf8') === 'allow' ? 'allow' : 'refuse';
  } catch {
    return 'refuse';
  }
}

/** What a crash of the gate leads to, for the hook script, which cannot read the configuration. */
export function writeOnError(repo: Repo, config: Config): void {
  const file = onErrorFile(repo.gitDir);
  const want = config.server.onError;
  try {
    if (readFileSync(file, 'utf8') === want) return;
  } catch {
    // not written yet
  }
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, want);
}

/**
 * Signed pushes: receive-pack asks for a certificate only with a nonce seed, and verifies an
 * SSH signature only against an allowed-signers file, written here from the researchers' keys.
 */
function prepareSigned(repo: Repo, config: Config): string[] {
  if (!configValue(repo, 'receive.certNonceSeed'))
    setLocalConfig(repo, 'receive.certNonceSeed', randomHex(16));
  const file = writeAllowedSigners(repo, config);
  setLocalConfig(repo, 'gpg.ssh.allowedSignersFile', file);
  return [
    'receive.certNonceSeed (signed pushes)',
    `gpg.ssh.allowedSignersFile=${file} (the researchers' keys)`,
  ];
}

const allowedSignersFile = (repo: Repo) => path.join(repo.gitDir, 'consortium', 'allowed-signers');

/** The researchers' keys as git verifies signed pushes against them (kept as the configuration changes). */
export function writeAllowedSigners(repo: Repo, config: Config): string {
  const file = allowedSignersFile(repo);
  const want = allowedSigners(config);
  if (!existsSync(file) || readFileSync(file, 'utf8') !== want) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, want);
  }
  return file;
}

export const allowedSigners = (config: Config) =>
  [...config.researchers.values()]
    .flatMap((r) => r.keys.map((k) => `${r.id} namespaces="git" ${k}\n`))
    .join('');

/** One line of `server doctor`: what it checked, whether it holds, and what to do when not. */
export interface DoctorCheck {
  check: string;
  ok: boolean;
  detail: string;
}

export async function doctor(
  repo: Repo,
): Promise<{ checks: DoctorCheck[]; enforced: string[]; notEnforced: string[] }> {
  const checks: DoctorCheck[] = [];
  const dir = hooksDir(repo);
  for (const hook of HOOKS) {
    const file = path.join(dir, hook);
    if (!isOurs(file)) {
      checks.push({
        check: `${hook} hook`,
        ok: false,
        detail: `${file} is not git-consortium's: run git consortium server install`,
      });
      continue;
    }
    const text = readFileSync(file, 'utf8');
    const node = unquote(/^NODE=(.*)$/m.exec(text)?.[1]);
    const cli = unquote(/^CLI=(.*)$/m.exec(text)?.[1]);
    const executable = (statSync(file).mode & 0o111) !== 0;
    const problems = [
      !executable && 'it is not executable',
      !node || !existsSync(node) ? `its Node.js (${node}) is gone` : undefined,
      !cli || !existsSync(cli) ? `its toolkit (${cli}) is gone` : undefined,
    ].filter(Boolean);
    const chained = existsSync(file + CHAINED) ? `; runs ${hook}${CHAINED} first` : '';
    checks.push({
      check: `${hook} hook`,
      ok: problems.length === 0,
      detail: problems.length
        ? `${problems.join(', ')}: run git consortium server install again`
        : `${file}${chained}`,
    });
  }
  const advertised = configValue(repo, 'receive.advertisePushOptions');
  checks.push({
    check: 'push options',
    ok: advertised === 'true',
    detail:
      advertised === 'true'
        ? 'receive.advertisePushOptions is true: a push without client hooks can carry an override'
        : 'receive.advertisePushOptions is not true: git push -o consortium.override=... is refused by git; run git consortium server install',
  });
  const server: ServerConfig = await serverConfig(repo);
  checks.push({
    check: 'configuration',
    ok: !server.problem,
    detail:
      server.problem ??
      (server.file
        ? `${server.branch}:${server.file}`
        : `none on ${server.branch ?? 'the default branch'}: every default`),
  });
  const { config } = server;
  const identity = config.server.identity;
  const enforced = [
    'the gate: lease, protocol, merge and foreign, under server.policy',
    "coordination refs kept whole: records only (no work parked under them), records that read, fast-forward histories, an exclusive lease table, gate events in their writer's ref and never changed, no deletion of a live session, notes only ever added to, no time ahead of the server's clock",
    "a change of the configuration on the default branch lands only as a person's decision (a push option), recorded",
  ];
  const notEnforced: string[] = [];
  if (identity === 'none')
    notEnforced.push(
      'ownership (who writes which session, lease and gate): server.identity is none, so the server does not know who pushes',
    );
  else
    enforced.push(
      `ownership of sessions, leases, gate changes and unlocks (server.identity ${identity}; --force unlocks: server.forceUnlock ${config.server.forceUnlock}); a pusher the server does not know as a researcher owns nothing and overrides nothing`,
    );
  notEnforced.push(
    "pushes that reach the repository without this hook: a host that runs its own hooks must run server hook-script's, and pushers over file:// set their own environment (GL_USER included)",
  );
  if (identity === 'signed') {
    const seed = !!configValue(repo, 'receive.certNonceSeed');
    const signers = existsSync(allowedSignersFile(repo))
      ? readFileSync(allowedSignersFile(repo), 'utf8')
      : '';
    const want = allowedSigners(config);
    checks.push({
      check: 'signed pushes',
      ok: seed && signers === want && want !== '',
      detail: !seed
        ? 'receive.certNonceSeed is not set: git asks for no certificate; run git consortium server install'
        : want === ''
          ? 'no researcher lists keys: nobody can be known; add keys under researchers'
          : signers !== want
            ? "the allowed-signers file does not match the researchers' keys: run git consortium server install"
            : `${want.split('\n').filter(Boolean).length} keys of ${config.researchers.size} researchers`,
    });
  }
  checks.push({
    check: 'on error',
    ok: true,
    detail: `a crash or time-out of the gate ${config.server.onError === 'allow' ? 'lets the push in unchecked' : 'refuses the push'} (server.onError ${config.server.onError})`,
  });
  return { checks, enforced, notEnforced };
}

const unquote = (value: string | undefined) => value?.replace(/^'|'$/g, '').replace(/'\\''/g, "'");
