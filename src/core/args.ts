import { parseArgs } from 'node:util';
import { usageError } from './errors.js';

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/**
 * Parses a command's arguments with Node's own parser: unknown options and missing values are
 * usage errors (exit 2) that name the command's help.
 */
export function parse<T extends OptionSpec>(
  command: string,
  argv: string[],
  options: T,
  /** How many operands it takes, and what the first missing one is called (PATH, G, ...). */
  positionals: [min: number, max: number, named?: string] = [0, 0],
) {
  let parsed: ReturnType<typeof parseArgs<{ options: T; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError(
      `${plainly(error, Object.keys(options))} See git consortium help ${command.split(' ')[0]}.`,
    );
  }
  const [min, max, named] = positionals;
  if (parsed.positionals.length < min)
    throw usageError(
      `git consortium ${command} needs ${named ?? 'more arguments'}. See git consortium help ${command.split(' ')[0]}.`,
    );
  if (parsed.positionals.length > max) {
    throw usageError(
      `Unexpected argument ${JSON.stringify(parsed.positionals[max])} for git consortium ${command}. See git consortium help ${command}.`,
    );
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/** Node's parser speaks of "positional arguments" and "ambiguous" values: say it plainly. */
function plainly(error: unknown, known: string[]): string {
  const full = error instanceof Error ? error.message : String(error);
  const message = full.split('\n')[0] ?? '';
  const option = /Option '([^' ]+)/.exec(message)?.[1];
  const long = /use '(--[^=']+)=/.exec(full)?.[1] ?? option;
  const ambiguous = /argument is ambiguous/.test(message);
  if (option && ambiguous) {
    return `${option} needs a value, and the next word starts with "-"; if the value itself starts with "-", write it as ${long}=VALUE.`;
  }
  if (option && /argument missing/.test(message)) return `${option} needs a value.`;
  const unknown = /^Unknown option '([^']+)'/.exec(message)?.[1];
  if (unknown) {
    const near = closest(unknown.replace(/^-+/, ''), known);
    return `Unknown option ${unknown}.${near ? ` Did you mean --${near}?` : ''}`;
  }
  return `${message.replace(/\.$/, '')}.`;
}

/**
 * The known word closest to `word`, if it is close enough to be a slip: a prefix of it, or two
 * edits away at most (one for short words). For "did you mean" in usage errors.
 */
export function closest(word: string, known: Iterable<string>): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = name.startsWith(word) && word.length >= 2 ? 0.5 : edits(word, name);
    if (distance <= (word.length <= 4 ? 1 : 2) && (!best || distance < best.distance))
      best = { name, distance };
  }
  return best?.name;
}

/** Levenshtein distance, with a swap of two neighbours counted as one edit. */
function edits(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}
