import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI_PATH } from '../core/process.js';
import { gitAs, gitAsChild } from '../git/run.js';

/**
 * A sandbox consortium: a bare repository as the remote and one clone per machine, each with
 * its own HOME and git identity, and the toolkit on PATH as `git-consortium`, so that
 * `git consortium ...` runs there exactly as on a user's machine. The demo plays its story in
 * one; the end-to-end tests build theirs with it too.
 */
export const CLI = CLI_PATH;

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** A folder below the clone to run in (or an absolute path). */
  cwd?: string;
}

export class World {
  readonly root: string;
  readonly remote: string;
  readonly bin: string;

  constructor(
    root?: string,
    readonly baseEnv: NodeJS.ProcessEnv = {},
  ) {
    if (root) mkdirSync(root, { recursive: true });
    this.root = realpathSync(root ?? mkdtempSync(path.join(tmpdir(), 'git-consortium-')));
    this.remote = path.join(this.root, 'remote.git');
    this.bin = path.join(this.root, 'bin');
    mkdirSync(this.bin, { recursive: true });
    symlinkSync(CLI, path.join(this.bin, 'git-consortium'));
  }

  /** Environment of one machine: its own HOME and identity, and the toolkit on PATH. */
  env(machine: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const home = path.join(this.root, 'home', machine);
    mkdirSync(home, { recursive: true });
    return {
      PATH: `${this.bin}${path.delimiter}${process.env.PATH}`,
      HOME: home,
      LANG: 'C',
      NO_COLOR: '1',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: machine,
      GIT_AUTHOR_EMAIL: `${machine}@example.org`,
      GIT_COMMITTER_NAME: machine,
      GIT_COMMITTER_EMAIL: `${machine}@example.org`,
      CONSORTIUM_HOST: machine,
      ...this.baseEnv,
      ...extra,
    };
  }

  /** Creates the remote with one commit holding `files`. */
  seed(files: Record<string, string>): void {
    const work = path.join(this.root, 'seed');
    mkdirSync(work, { recursive: true });
    const env = this.env('seed');
    gitIn(this.root, ['init', '--bare', '-q', '-b', 'main', this.remote], env);
    gitIn(work, ['init', '-q', '-b', 'main'], env);
    for (const [file, content] of Object.entries(files)) writeFile(work, file, content);
    gitIn(work, ['add', '-A'], env);
    gitIn(work, ['commit', '-q', '-m', 'The consortium repository'], env);
    gitIn(work, ['push', '-q', this.remote, 'main'], env);
    rmSync(work, { recursive: true, force: true });
  }

  /**
   * A machine's clone of the remote: by its path, or by `url` (the same remote served over SSH
   * or HTTP, as test/helpers/transports.ts does), with whatever the machine's HOME holds to reach it.
   */
  clone(machine: string, url = this.remote): Machine {
    const dir = path.join(this.root, machine);
    gitIn(this.root, ['clone', '-q', '--end-of-options', url, dir], this.env(machine));
    return new Machine(this, machine, dir);
  }
}

export class Machine {
  constructor(
    readonly world: World,
    readonly name: string,
    readonly dir: string,
  ) {}

  env(extra: NodeJS.ProcessEnv = {}) {
    return this.world.env(this.name, extra);
  }

  git(args: string[], options: RunOptions = {}): Result {
    const r = gitAs(args, {
      cwd: options.cwd ? path.resolve(this.dir, options.cwd) : this.dir,
      env: this.env(options.env),
      input: options.input,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** `git consortium ...` on this machine. */
  gc(args: string[], options: RunOptions = {}): Result {
    return this.git(['consortium', ...args], options);
  }

  /** The same, without waiting: for races between processes. */
  gcAsync(args: string[], options: RunOptions = {}): Promise<Result> {
    return new Promise((resolve) => {
      const child = gitAsChild(['consortium', ...args], {
        cwd: options.cwd ? path.resolve(this.dir, options.cwd) : this.dir,
        env: this.env(options.env),
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      if (options.input !== undefined) child.stdin.end(options.input);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  write(file: string, content: string): void {
    writeFile(this.dir, file, content);
  }

  /** Writes the files and commits everything. */
  commit(message: string, files: Record<string, string> = {}): void {
    for (const [file, content] of Object.entries(files)) this.write(file, content);
    ensure(this.git(['add', '-A']), 'git add');
    ensure(this.git(['commit', '-q', '-m', message]), 'git commit');
  }
}

function writeFile(dir: string, file: string, content: string) {
  const full = path.join(dir, file);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, content);
}

function gitIn(cwd: string, args: string[], env: NodeJS.ProcessEnv): void {
  const r = gitAs(args, { cwd, env });
  ensure({ code: r.status, stderr: r.stderr }, `git ${args[0]}`);
}

function ensure(result: { status?: number | null; code: number; stderr: string }, what: string) {
  const code = result.status ?? result.code;
  if (code !== 0) throw new Error(`${what} failed: ${result.stderr.trim()}`);
}

/** A small consortium in the TCP style: protocol files, three workspaces, gates. */
export const SAMPLE_CONFIG = `# A small consortium in the style of the TCP research consortium.
workspaces: consortium/*
researchers:
  elena-vasquez:
    name: Dr. Elena Vasquez
    role: Behavioral AI security and statistics
    context: consortium/elena-vasquez/CONTEXT.md
  yuki-tanaka:
    name: Dr. Yuki Tanaka
    role: Real-time systems and performance
  aria-blackwood:
    name: Dr. Aria Blackwood
    role: Security and red team
protocol:
  - protocol/**
  - TCP_SPECIFICATION.md
gates:
  G1: { title: Statistical rigor, owner: elena-vasquez }
  G2: { title: Performance precision, owner: yuki-tanaka, requires: [G1] }
  G3: { title: Security validation, owner: aria-blackwood, requires: [G1, G2] }
`;

const numbered = (title: string, n: number) =>
  `${title}\n\n${Array.from({ length: n }, (_, i) => `line ${i + 3}`).join('\n')}\n`;

export const SAMPLE_FILES: Record<string, string> = {
  'consortium.config.yaml': SAMPLE_CONFIG,
  'TCP_SPECIFICATION.md': numbered('# TCP specification', 10),
  'protocol/spec.md': numbered('# Protocol', 10),
  'src/shared.py': numbered('# shared code', 10),
  'consortium/elena-vasquez/CONTEXT.md':
    '# Dr. Elena Vasquez\n\nYou are Elena: statistics and behavioral security.\n',
  'consortium/yuki-tanaka/notes.md': '# Yuki\n',
  'consortium/aria-blackwood/notes.md': '# Aria\n',
  'consortium/communications/README.md': 'Shared announcements: not a workspace.\n',
};
