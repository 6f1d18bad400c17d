import type { Machine, Result, World } from './world.js';

/**
 * The demo's story, told in chapters. Each chapter plays a few real commands on the sandbox's
 * machines; the narrator prints every command and what it printed, indented.
 */
export interface Cast {
  world: World;
  elena: Machine;
  yuki: Machine;
  aria: Machine;
}

export interface Chapter {
  title: string;
  play(cast: Cast, tell: Narrator): void | Promise<void>;
}

export class Narrator {
  constructor(private readonly out: (line: string) => void) {}

  chapter(n: number, title: string) {
    this.out('');
    this.out(`== ${n}. ${title}`);
  }

  say(text: string) {
    this.out(text);
  }

  /** Runs `git consortium ...` (or plain git with `git: true`) on a machine and prints it all. */
  run(
    machine: Machine,
    args: string[],
    options: { git?: boolean; cwd?: string; env?: NodeJS.ProcessEnv; expect?: number } = {},
  ): Result {
    const words = args
      .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`))
      .join(' ');
    const shown = options.git ? `git ${words}` : `git consortium ${words}`;
    const env = options.env
      ? `${Object.entries(options.env)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(' ')} `
      : '';
    this.out(`  ${machine.name}$ ${env}${shown}`);
    const result = options.git ? machine.git(args, options) : machine.gc(args, options);
    const text = `${result.stdout}${result.stderr}`.trimEnd();
    if (text) this.out(text.replace(/^/gm, '    '));
    const expected = options.expect ?? 0;
    if (result.code !== expected) {
      throw new Error(
        `the demo expected exit ${expected} from "${shown}" on ${machine.name}, got ${result.code}`,
      );
    }
    return result;
  }
}
