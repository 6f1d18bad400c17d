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
  positionals: [min: number, max: number] = [0, 0],
) {
  let parsed: ReturnType<typeof parseArgs<{ options: T; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError(`${plainly(error)} See git consortium help ${command}.`);
  }
  const [min, max] = positionals;
  if (parsed.positionals.length < min)
    throw usageError(`git consortium ${command} needs more arguments. See git consortium help ${command}.`);
  if (parsed.positionals.length > max) {
    throw usageError(
      `Unexpected argument ${JSON.stringify(parsed.positionals[max])} for git consortium ${command}. See git consortium help ${command}.`,
    );
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/** Node's parser speaks of "positional arguments" and "ambiguous" values: say it plainly. */
function plainly(error: unknown): string {
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
  if (unknown) return `Unknown option ${unknown}.`;
  return `${message.replace(/\.$/, '')}.`;
}
