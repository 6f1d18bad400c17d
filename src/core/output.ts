import pc from 'picocolors';

/**
 * Colour (SPEC section 6): on a terminal, or always with --color=always; never with NO_COLOR,
 * --color=never or in JSON. `stream` is where the text goes: a hook writes to stderr.
 */
export function colors(json = false, stream: NodeJS.WriteStream = process.stdout) {
  const chosen = process.env.CONSORTIUM_COLOR;
  const enabled =
    !json &&
    !('NO_COLOR' in process.env) &&
    chosen !== 'never' &&
    (chosen === 'always' || (!!stream.isTTY && process.env.TERM !== 'dumb'));
  return pc.createColors(enabled);
}

export type Colors = ReturnType<typeof colors>;

/** One JSON document on stdout, and nothing else there. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function print(text = ''): void {
  process.stdout.write(`${text}\n`);
}

export function warn(text: string): void {
  process.stderr.write(`${text}\n`);
}
