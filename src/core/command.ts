/**
 * A command declares itself once (each src/commands/<name>.ts exports `command`): its name,
 * usage, summary, details, examples and options. Help, every --help, the man page, the command
 * table of docs/cli.md and the argument parser all read that one declaration, and a test checks
 * that usage, examples and options agree.
 */
export type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };

export interface CommandSpec {
  readonly name: string;
  readonly usage: readonly string[];
  readonly summary: string;
  readonly details: string;
  /** Two or three command lines, each with what it does: shown by help after the details. */
  readonly examples: readonly { readonly run: string; readonly says: string }[];
  readonly hidden?: boolean;
  readonly options: Readonly<Record<string, OptionSpec>>;
}

/** The options of the command that one of its verbs takes (lease acquire, ci report, ...). */
export function pick<C extends CommandSpec, K extends keyof C['options'] & string>(
  command: C,
  names: K[],
): Pick<C['options'], K> {
  return Object.fromEntries(names.map((n) => [n, command.options[n]])) as Pick<C['options'], K>;
}
