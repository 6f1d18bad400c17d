import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FakeAnthropic, type Step } from './fake-anthropic.js';
import { type Machine, must } from './sandbox.js';

/**
 * The real Claude Code CLI (the pinned devDependency), run headless and offline against the
 * fake Messages API, in a sandbox machine: its own HOME, the toolkit on PATH. A run returns
 * what Claude Code printed (stream-json events), its debug log, and the fake API keeps what it
 * sent to the model.
 */
export const CLAUDE_BIN = path.resolve(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'claude');

/** Without a reachable API Claude Code retries for minutes: every run is bounded. */
const RUN_LIMIT_MS = 90_000;

export interface ClaudeRun {
  code: number;
  /** The stream-json events printed on stdout. */
  events: Array<Record<string, any>>;
  stderr: string;
  debug: string;
  /** Claude Code's own session id (the conversation). */
  sessionId?: string;
}

export interface RunOptions {
  /** Folder to start in, relative to the clone (or absolute). */
  cwd?: string;
  prompt: string;
  steps?: Step[];
  env?: NodeJS.ProcessEnv;
  /** Extra command-line arguments (--resume ID, --allowedTools ...). */
  args?: string[];
  /** Run without --dangerously-skip-permissions (allow rules then decide). */
  permissions?: boolean;
}

export class ClaudeCode {
  readonly api = new FakeAnthropic();
  private base = '';
  private runs = 0;

  async start(): Promise<this> {
    if (!existsSync(CLAUDE_BIN))
      throw new Error(`${CLAUDE_BIN} is missing: npm ci installs the pinned Claude Code CLI.`);
    this.base = await this.api.start();
    return this;
  }

  close(): Promise<void> {
    return this.api.close();
  }

  /**
   * The README's set-up: one researcher runs `init --claude` and commits it, the others pull and
   * run init in their own clones; every clone's top is trusted, as the trust dialog does.
   */
  setUp(first: Machine, others: Machine[]): void {
    must(first.gc(['init', '--claude']));
    must(first.git(['add', '-A']));
    must(first.git(['commit', '-qm', 'Claude Code integration']));
    must(first.git(['push', '-q', 'origin', 'main']));
    for (const machine of others) {
      must(machine.git(['pull', '-q']));
      must(machine.gc(['init']));
    }
    for (const machine of [first, ...others]) this.trust(machine);
  }

  /** Marks the clone's top as trusted in the machine's ~/.claude.json, as the trust dialog does. */
  trust(machine: Machine, top = machine.dir): void {
    const home = machine.env().HOME!;
    const file = path.join(home, '.claude.json');
    const state = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
    state.hasCompletedOnboarding = true;
    state.projects ??= {};
    state.projects[realpathSync(top)] = {
      ...state.projects[realpathSync(top)],
      hasTrustDialogAccepted: true,
    };
    writeFileSync(file, JSON.stringify(state, null, 2));
  }

  run(machine: Machine, options: RunOptions): Promise<ClaudeRun> {
    this.api.script(options.steps ?? []);
    const cwd = path.resolve(machine.dir, options.cwd ?? '.');
    const logs = path.join(machine.world.root, 'claude-logs');
    mkdirSync(logs, { recursive: true });
    const debugFile = path.join(logs, `${machine.name}-${++this.runs}.log`);
    const args = [
      '-p',
      options.prompt,
      '--output-format',
      'stream-json',
      '--verbose',
      '--include-hook-events',
      '--debug-file',
      debugFile,
      ...(options.permissions ? [] : ['--dangerously-skip-permissions']),
      ...(options.args ?? []),
    ];
    const env = machine.env({
      ANTHROPIC_BASE_URL: this.base,
      ANTHROPIC_API_KEY: 'sk-ant-test',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_AUTOUPDATER: '1',
      DISABLE_ERROR_REPORTING: '1',
      IS_SANDBOX: '1',
      ...options.env,
    });
    // The conversation's own agent variables must come from Claude Code, not from our runner.
    for (const name of [
      'CLAUDECODE',
      'AI_AGENT',
      'CLAUDE_CODE_SESSION_ID',
      'CLAUDE_CODE_ENTRYPOINT',
      'CLAUDE_ENV_FILE',
    ])
      if (!options.env?.[name]) delete env[name];
    return new Promise((resolve) => {
      const child = spawn(CLAUDE_BIN, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => {
        stderr += `\n[killed after ${RUN_LIMIT_MS / 1000}s]`;
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, RUN_LIMIT_MS);
      child.on('close', (code) => {
        clearTimeout(timer);
        const events = stdout
          .split('\n')
          .filter((l) => l.trim().startsWith('{'))
          .flatMap((l) => {
            try {
              return [JSON.parse(l)];
            } catch {
              return [];
            }
          });
        const debug = existsSync(debugFile) ? readFileSync(debugFile, 'utf8') : '';
        resolve({
          code: code ?? -1,
          events,
          stderr,
          debug,
          sessionId: events.find((e) => e.type === 'system' && e.subtype === 'init')?.session_id,
        });
      });
    });
  }
}

/** The Bash tool, as the model calls it. */
export const bash = (command: string) => ({
  name: 'Bash',
  input: { command, description: 'Run a command' },
});

/** All that a run printed, for a failing assertion's message. */
export const everything = (run: ClaudeRun) =>
  `${run.events.map((e) => JSON.stringify(e)).join('\n')}\n${run.stderr}`;

/** The Edit tool, as the model calls it. */
export const editTool = (file: string, oldString: string, newString: string) => ({
  name: 'Edit',
  input: { file_path: file, old_string: oldString, new_string: newString },
});

/** The hook events of a run (with --include-hook-events), by hook name. */
export function hookEvents(run: ClaudeRun, name?: string): Array<Record<string, any>> {
  return run.events.filter(
    (e) =>
      e.type === 'system' &&
      /hook/.test(String(e.subtype)) &&
      (!name || e.hook_event === name || e.hook_name?.startsWith(name)),
  );
}
