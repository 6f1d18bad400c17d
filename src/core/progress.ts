import { isTerminal, writeTo } from './stdio.js';

/**
 * Progress for network work that takes more than about a second: one line on stderr, on a
 * terminal only (never in --json, with --quiet, or when a hook's output is captured), telling
 * what the command is waiting for, rubbed out when the work is done.
 */
const AFTER_MS = 1000;

export interface Progress {
  /** What it waits for now (the gate: the fetch, then the merge prediction). */
  now(what: string): void;
  done(): void;
}

const silent: Progress = { now() {}, done() {} };

export function progress(what: string, options: { quiet?: boolean } = {}): Progress {
  // Asked of the descriptor: process.stderr would load Node's stream modules on every push.
  if (options.quiet || !isTerminal(2) || process.env.CONSORTIUM_PROGRESS === '0') return silent;
  const started = Date.now();
  let label = what;
  let shown = false;
  const show = () => {
    shown = true;
    writeTo(2, `\r\x1b[2K${label}...`);
  };
  // The timer fires while the work waits on the network; work that holds the event loop (a
  // merge prediction) shows its label when it starts, once a second has gone by.
  const timer = setTimeout(show, AFTER_MS);
  timer.unref();
  return {
    now(next) {
      label = next;
      if (shown || Date.now() - started >= AFTER_MS) show();
    },
    done() {
      clearTimeout(timer);
      if (shown) writeTo(2, '\r\x1b[2K');
      shown = false;
    },
  };
}

/** `work` with `what` shown while it takes more than a second. */
export async function withProgress<T>(
  what: string,
  work: (p: Progress) => Promise<T>,
  options: { quiet?: boolean } = {},
): Promise<T> {
  const p = progress(what, options);
  try {
    return await work(p);
  } finally {
    p.done();
  }
}
