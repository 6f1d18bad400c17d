import pc from 'picocolors';

/** Colour only on a terminal, never with NO_COLOR, never in JSON. */
export function colors(json = false) {
  const enabled =
    !json && !!process.stdout.isTTY && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
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
