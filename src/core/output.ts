import { picocolors } from './lazy-modules.js';
import { isTerminal, writeTo } from './stdio.js';

/**
 * Colour (SPEC section 6): on a terminal, or always with --color=always; never with NO_COLOR,
 * --color=never or in JSON. `fd` is where the text goes: a hook writes to stderr (2).
 */
export function colors(json = false, fd: 1 | 2 = 1) {
  const chosen = process.env.CONSORTIUM_COLOR;
  const enabled =
    !json &&
    !('NO_COLOR' in process.env) &&
    chosen !== 'never' &&
    (chosen === 'always' || (isTerminal(fd) && process.env.TERM !== 'dumb'));
  return enabled ? picocolors().createColors(true) : PLAIN;
}

export type Colors = ReturnType<typeof import('picocolors').createColors>;

/** Without colour every style is the text itself, and picocolors need not load. */
const PLAIN = new Proxy({} as Colors, {
  get: (_, key) => (key === 'isColorSupported' ? false : (text: unknown) => String(text)),
});

/** One JSON document on stdout, and nothing else there. */
export function printJson(value: unknown): void {
  writeTo(1, `${JSON.stringify(value, null, 2)}\n`);
}

export function print(text = ''): void {
  writeTo(1, `${text}\n`);
}

export function warn(text: string): void {
  writeTo(2, `${text}\n`);
}
