import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A real terminal: bash in tmux (a server of its own), typed into with send-keys and read with
 * capture-pane, escape sequences included when asked. For what only a terminal shows: colour,
 * progress lines, completion.
 */
export class Terminal {
  private readonly socket = `gc-test-${process.pid}-${randomBytes(3).toString('hex')}`;

  /** `env` is the whole environment of the shell: tmux's own server would win over -e for PATH. */
  constructor(env: NodeJS.ProcessEnv, cwd: string, dir: string, kind: 'bash' | 'zsh' = 'bash') {
    const quote = (v: string) => `'${v.replace(/'/g, "'\\''")}'`;
    const home = path.join(dir, `shell-${this.socket}`);
    mkdirSync(home, { recursive: true });
    const rc = path.join(home, kind === 'bash' ? 'bashrc' : '.zshrc');
    const lines = Object.entries(env).flatMap(([k, v]) =>
      v === undefined ? [] : [`export ${k}=${quote(v)}`],
    );
    writeFileSync(rc, [...lines, "PS1='$ '", `cd ${quote(cwd)}`, ''].join('\n'));
    const shell =
      kind === 'bash' ? `env -i bash --noprofile --rcfile ${quote(rc)}` : `env -i ZDOTDIR=${quote(home)} zsh`;
    this.tmux(['new-session', '-d', '-s', 'main', '-x', '160', '-y', '50', shell]);
    this.tmux(['set-option', '-g', 'history-limit', '5000']);
  }

  private tmux(args: string[]): string {
    const r = spawnSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args[0]}: ${r.stderr || r.error?.message}`);
    return r.stdout;
  }

  /** Types `text`, then Enter unless `enter` is false (to press TAB after it, say). */
  type(text: string, options: { enter?: boolean } = {}): void {
    this.tmux(['send-keys', '-t', 'main', '-l', text]);
    if (options.enter !== false) this.tmux(['send-keys', '-t', 'main', 'Enter']);
  }

  press(key: 'Tab' | 'Enter' | 'C-c' | 'C-u'): void {
    this.tmux(['send-keys', '-t', 'main', key]);
  }

  /** The screen and its scrollback as text, with the escape sequences of colour when `escapes`. */
  screen(options: { escapes?: boolean } = {}): string {
    return this.tmux([
      'capture-pane',
      '-p',
      '-J',
      '-S',
      '-5000',
      '-t',
      'main',
      ...(options.escapes ? ['-e'] : []),
    ]);
  }

  clear(): void {
    this.type('clear');
    this.tmux(['clear-history', '-t', 'main']);
  }

  /** Waits until the screen shows `text` (a string or a pattern), up to `ms`. */
  async waitFor(text: string | RegExp, ms = 10_000, options: { escapes?: boolean } = {}): Promise<string> {
    const until = Date.now() + ms;
    for (;;) {
      const shown = this.screen(options);
      // Matched on the text alone: with escapes, a line may begin with a colour reset.
      const plain = shown.replace(/\x1b\[[0-9;]*m/g, '');
      if (typeof text === 'string' ? plain.includes(text) : text.test(plain)) return shown;
      if (Date.now() > until) throw new Error(`the terminal did not show ${String(text)}:\n${shown}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}
