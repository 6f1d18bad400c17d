import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Real repositories for end-to-end tests: a bare repository as the remote and one clone per
 * machine, each with its own HOME and git identity, and the built CLI on PATH as
 * `git-consortium`, so `git consortium ...` runs exactly as a user's would.
 */
export const PROJECT = path.resolve(import.meta.dirname, '..', '..');
export const CLI = path.join(PROJECT, 'dist', 'cli.js');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export class Sandbox {
  readonly root: string;
  readonly remote: string;
  readonly bin: string;

  constructor(readonly name = 'sandbox') {
    this.root = realpathSync(mkdtempSync(path.join(tmpdir(), `gc-${name}-`)));
    this.remote = path.join(this.root, 'remote.git');
    this.bin = path.join(this.root, 'bin');
    mkdirSync(this.bin);
    symlinkSync(CLI, path.join(this.bin, 'git-consortium'));
  }

  /** Environment of a machine: its own HOME, identity, and the toolkit on PATH. */
  env(machine: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const home = path.join(this.root, 'home', machine);
    mkdirSync(home, { recursive: true });
    const env: NodeJS.ProcessEnv = {
      PATH: `${this.bin}:${process.env.PATH}`,
      HOME: home,
      LANG: 'C',
      NO_COLOR: '1',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: machine,
      GIT_AUTHOR_EMAIL: `${machine}@example.org`,
      GIT_COMMITTER_NAME: machine,
      GIT_COMMITTER_EMAIL: `${machine}@example.org`,
      CONSORTIUM_HOST: machine,
      CONSORTIUM_NO_BACKGROUND: '1',
      ...extra,
    };
    return env;
  }

  /** The seed repository on the remote: files given as { path: content }. */
  seed(files: Record<string, string>, config?: string): void {
    const work = path.join(this.root, 'seed');
    mkdirSync(work, { recursive: true });
    sh(this.root, ['init', '--bare', '-q', '-b', 'main', this.remote]);
    sh(work, ['init', '-q', '-b', 'main']);
    for (const [file, content] of Object.entries({
      ...files,
      ...(config ? { 'consortium.config.yaml': config } : {}),
    })) {
      mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
      writeFileSync(path.join(work, file), content);
    }
    sh(work, ['add', '-A'], this.env('seed'));
    sh(work, ['commit', '-q', '-m', 'seed'], this.env('seed'));
    sh(work, ['push', '-q', this.remote, 'main'], this.env('seed'));
  }

  /** A clone of the remote for one machine. */
  clone(machine: string): Machine {
    const dir = path.join(this.root, machine);
    sh(this.root, ['clone', '-q', this.remote, dir], this.env(machine));
    return new Machine(this, machine, dir);
  }

  cleanup(): void {
    if (!process.env.KEEP_SANDBOX) rmSync(this.root, { recursive: true, force: true });
  }
}

export class Machine {
  constructor(
    readonly sandbox: Sandbox,
    readonly name: string,
    readonly dir: string,
  ) {}

  env(extra: NodeJS.ProcessEnv = {}) {
    return this.sandbox.env(this.name, extra);
  }

  /** `git consortium ...` here (or in `cwd` below this clone). */
  gc(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Result {
    return this.git(['consortium', ...args], options);
  }

  git(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Result {
    return toResult(
      spawnSync('git', args, {
        cwd: options.cwd ? path.resolve(this.dir, options.cwd) : this.dir,
        env: this.env(options.env),
        input: options.input,
        encoding: 'utf8',
      }),
    );
  }

  /** Starts `git consortium ...` without waiting: for races. */
  gcAsync(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
    return new Promise((resolve) => {
      const child = spawn('git', ['consortium', ...args], { cwd: this.dir, env: this.env(options.env) });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  write(file: string, content: string): void {
    const full = path.join(this.dir, file);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, content);
  }

  commit(message: string, files: Record<string, string> = {}): void {
    for (const [file, content] of Object.entries(files)) this.write(file, content);
    must(this.git(['add', '-A']));
    must(this.git(['commit', '-q', '-m', message]));
  }

  json<T = any>(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): T {
    const result = this.gc([...args, '--json'], options);
    if (result.code !== 0)
      throw new Error(`git consortium ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  }
}

function toResult(r: SpawnSyncReturns<string>): Result {
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function must(result: Result): Result {
  if (result.code !== 0) throw new Error(`exit ${result.code}: ${result.stderr || result.stdout}`);
  return result;
}

function sh(cwd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync('git', args, { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A small TCP-like consortium: protocol files, three workspaces, gates. */
export const SAMPLE_CONFIG = `workspaces: consortium/*
researchers:
  elena-vasquez: { name: Dr. Elena Vasquez, role: Statistics, context: consortium/elena-vasquez/CONTEXT.md }
  yuki-tanaka: { name: Dr. Yuki Tanaka, role: Performance }
  aria-blackwood: { name: Dr. Aria Blackwood, role: Security }
protocol:
  - protocol/**
  - TCP_SPECIFICATION.md
gates:
  G1: { title: Statistical rigor, owner: elena-vasquez }
  G2: { title: Performance precision, owner: yuki-tanaka, requires: [G1] }
  G3: { title: Security validation, owner: aria-blackwood, requires: [G1, G2] }
`;

export const SAMPLE_FILES: Record<string, string> = {
  'TCP_SPECIFICATION.md': '# TCP specification\n\nline 3\nline 4\nline 5\nline 6\nline 7\n',
  'protocol/spec.md': '# Protocol\n\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n',
  'src/shared.py': 'a = 1\nb = 2\nc = 3\nd = 4\ne = 5\nf = 6\ng = 7\nh = 8\n',
  'consortium/elena-vasquez/CONTEXT.md': '# Elena\nYou are Dr. Elena Vasquez.\n',
  'consortium/yuki-tanaka/notes.md': '# Yuki\n',
  'consortium/aria-blackwood/notes.md': '# Aria\n',
  'consortium/communications/README.md': 'not a workspace\n',
};

/** The usual test world: remote seeded with the sample consortium, and named clones. */
export function consortium<const N extends string>(
  machines: N[],
  name = 'consortium',
): { sandbox: Sandbox; m: Record<N, Machine> } {
  const sandbox = new Sandbox(name);
  sandbox.seed(SAMPLE_FILES, SAMPLE_CONFIG);
  const m = {} as Record<N, Machine>;
  for (const machine of machines) m[machine] = sandbox.clone(machine);
  return { sandbox, m };
}
