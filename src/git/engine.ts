import type { SimpleGit } from 'simple-git';
import type { GitResult } from './run.js';
import { gitEnv } from './run.js';

/**
 * git through simple-git, for the operations off the hooks' hot paths (docs/architecture.md
 * says where the line lies and why). Loaded on first use, so that a hook, which never calls
 * it, does not pay the 25 to 50 ms it costs to load. Every call answers like run.ts's git(): an
 * exit code and both outputs, never a rejection for a non-zero exit, since the callers read
 * git's answer (a missing ref is exit 1, not an error). Network operations stay on run.ts:
 * simple-git stops a timed-out git with SIGINT to that one process, which leaves its ssh or
 * git-remote-http helper running.
 */
let loading: Promise<typeof import('simple-git')> | undefined;

export async function gitAsync(
  args: string[],
  options: { cwd: string; input?: string; env?: NodeJS.ProcessEnv },
): Promise<GitResult> {
  loading ??= import('simple-git');
  const { simpleGit } = await loading;
  let answer: { exitCode: number; stdErr: Buffer[] } | undefined;
  const env = gitEnv(options.env) as Record<string, string>;
  const git: SimpleGit = simpleGit({
    baseDir: options.cwd,
    // The user's own environment, as git itself would read it: its guard is for values a
    // program takes from strangers, and ours come from the user and from the toolkit.
    allowEnvironment: Object.keys(env),
    // Likewise the variables git itself sets for its subcommands (GIT_EXEC_PATH) and the
    // user's own editor, pager, ssh and configuration settings, which git would honour.
    unsafe: {
      allowUnsafeExec: true,
      allowUnsafeConfigPaths: true,
      allowUnsafeConfigEnvCount: true,
      allowUnsafeEditor: true,
      allowUnsafePager: true,
      allowUnsafeSshCommand: true,
      allowUnsafeAskPass: true,
      allowUnsafeGitProxy: true,
      allowUnsafeDiffExternal: true,
      allowUnsafeTemplateDir: true,
    },
    trimmed: false,
    // Every answer is an answer: the exit code and stderr are kept, nothing is thrown.
    errors: (_error, result) => {
      answer = { exitCode: result.exitCode, stdErr: result.stdErr };
      return undefined;
    },
    ...(options.input !== undefined && { input: () => options.input! }),
  }).env(env);
  const stdout = await git.raw(args);
  return {
    status: answer?.exitCode ?? 0,
    stdout,
    stderr: answer ? Buffer.concat(answer.stdErr).toString('utf8') : '',
  };
}
