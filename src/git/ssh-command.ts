/**
 * The ssh that git will start for a network call of ours, with the options that keep it from
 * asking anyone anything and from waiting on a server that never answers. git takes the first
 * of GIT_SSH_COMMAND, core.sshCommand (both run through a shell), GIT_SSH (a program, run
 * without one) and `ssh`. Setting GIT_SSH_COMMAND outright would hide the user's own choice
 * (their key in core.sshCommand, their wrapper in GIT_SSH), so the user's command is kept as
 * they wrote it and only constant options are appended; a GIT_SSH program is single-quoted
 * first, so that the shell git runs GIT_SSH_COMMAND through sees it as one word, as git would
 * have run it. Only OpenSSH takes `-o`, and PuTTY's plink `-batch`: the variant is read as git
 * reads it (GIT_SSH_VARIANT, ssh.variant, else the program's name). A program of any other
 * name is left alone: the time bound (a kill of the whole process group) still holds for it.
 */
export interface SshSettings {
  /** core.sshCommand, as git config gives it. */
  sshCommand?: string;
  /** ssh.variant. */
  variant?: string;
}

type Variant = 'ssh' | 'plink' | 'putty' | 'tortoiseplink' | 'simple' | 'auto';

/**
 * The GIT_SSH_COMMAND to give git, or undefined when the environment is best left as it is
 * (a program whose options are not known).
 */
export function batchSshCommand(
  env: NodeJS.ProcessEnv,
  settings: SshSettings,
  timeoutSeconds: number,
): string | undefined {
  const override = overrideVariant(env.GIT_SSH_VARIANT ?? settings.variant);
  let command: string;
  let variant: Variant;
  if (env.GIT_SSH_COMMAND) {
    command = env.GIT_SSH_COMMAND;
    variant = override ?? guessVariant(firstWord(command));
  } else if (settings.sshCommand) {
    command = settings.sshCommand;
    variant = override ?? guessVariant(firstWord(command));
  } else if (env.GIT_SSH) {
    command = shellQuote(env.GIT_SSH);
    variant = override ?? guessVariant(env.GIT_SSH);
  } else {
    command = 'ssh';
    variant = override ?? 'ssh';
  }
  const options =
    variant === 'ssh'
      ? ` -o BatchMode=yes -o ConnectTimeout=${timeoutSeconds}`
      : variant === 'plink' || variant === 'putty'
        ? ' -batch'
        : // tortoiseplink: git adds -batch itself; simple and auto: options unknown.
          '';
  return options ? `${command}${options}` : undefined;
}

function overrideVariant(value: string | undefined): Variant | undefined {
  const v = value?.toLowerCase();
  return v === 'ssh' || v === 'plink' || v === 'putty' || v === 'tortoiseplink' || v === 'simple'
    ? v
    : undefined;
}

/** As git's determine_ssh_variant: by the program's base name, whatever its case, .exe or not. */
function guessVariant(program: string | undefined): Variant {
  const base = (program ?? '').split(/[\\/]/).pop()!.toLowerCase();
  const name = base.endsWith('.exe') ? base.slice(0, -4) : base;
  return name === 'ssh'
    ? 'ssh'
    : name === 'plink'
      ? 'plink'
      : name === 'tortoiseplink'
        ? 'tortoiseplink'
        : 'auto';
}

/** The first word of a command line, as git's split_cmdline reads it; undefined for an open quote. */
export function firstWord(command: string): string | undefined {
  let word = '';
  let quote = '';
  let i = 0;
  while (i < command.length && /\s/.test(command[i]!)) i++;
  for (; i < command.length; i++) {
    const c = command[i]!;
    if (!quote && /\s/.test(c)) break;
    if (!quote && (c === "'" || c === '"')) quote = c;
    else if (c === quote) quote = '';
    else if (c === '\\' && quote !== "'") {
      i++;
      if (i >= command.length) return undefined;
      word += command[i];
    } else word += c;
  }
  return quote ? undefined : word;
}

/** One word for sh, whatever it holds. */
export const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
