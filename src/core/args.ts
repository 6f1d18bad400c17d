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
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    throw usageError(`${message.replace(/\.$/, '')}. See git consortium help ${command}.`);
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

export const JSON_FLAG = { json: { type: 'boolean' } } as const;

/** `-r, --researcher ID`: who the caller is, for every command that acts as or for a researcher. */
export const RESEARCHER_FLAG = { researcher: { type: 'string', short: 'r' } } as const;
