import type { SimpleGit } from 'simple-git';
import type { GitResult } from './run.js';
import { gitEnv, refsMayHaveMoved } from './run.js';

/**
 * git through simple-git, for the operations off the hooks' hot paths (docs/architecture.md
 * says where the line lies and why). Loaded on first use, so that a hook, which never calls
 * it, does not pay the 25 to 50 ms it costs to load. Every call answers like run.ts's git(): an
 * exit code and both outputs, never a rejection for a non-zero exit, since the callers read
 * git's answer (a missing ref is exit 1, not an error). Its callers give git no stdin unless they
 * pass `input`: none of its operations reads stdin. Network operations stay on run.ts:
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
      // git's own abbreviation rule, not a stricter one leaked to hooks (GIT_TEST_DISALLOW_ABBREVIATED_OPTIONS).
      allowAbbreviatedOptions: true,
      allowUnsafeExec: true,
      allowUnsafeAlias: true,
      allowUnsafeCredentialHelper: true,
      allowUnsafeUrlRewrite: true,
      allowUnsafeInclude: true,
      allowUnsafeHooksPath: true,
      allowUnsafeFsMonitor: true,
      allowUnsafeFilter: true,
      allowUnsafeMergeDriver: true,
      allowUnsafeProtocolOverride: true,
      allowUnsafePack: true,
      allowUnsafeGpgProgram: true,
      allowUnsafeSubmodule: true,
      allowUnsafeCommandBinaries: true,
      allowUnsafeDiffTextConv: true,
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
  let stdout: string;
  refsMayHaveMoved();
  try {
    stdout = await git.raw(args);
  } catch (error) {
    // A refusal of simple-git's own (a guard, a spawn failure) is answered as git's would be.
    return { status: 128, stdout: '', stderr: error instanceof Error ? error.message : String(error) };
  } finally {
    refsMayHaveMoved();
  }
  return {
    // A git killed by a signal has no exit code: a failure, as run.ts reports it.
    status: typeof answer?.exitCode === 'number' ? answer.exitCode : 128,
    stdout,
    stderr: answer ? Buffer.concat(answer.stdErr).toString('utf8') : '',
  };
}
