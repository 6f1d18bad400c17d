import { allCommands, COMMANDS } from './commands/registry.js';
import { closest } from './core/args.js';
import { ConsortiumError, EXIT } from './core/errors.js';
import { writeTo } from './core/stdio.js';
import { commandHelp, generalHelp } from './help.js';
import { reportError } from './report-error.js';

/**
 * `--color=auto|always|never` (SPEC section 6), taken before the command reads its own
 * options, and passed on as CONSORTIUM_COLOR so that the hooks a command sets off agree.
 */
function takeColor(argv: string[]): string[] {
  const end = argv.indexOf('--');
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if ((end >= 0 && i >= end) || (arg !== '--color' && !arg.startsWith('--color='))) {
      out.push(arg);
      continue;
    }
    const value = arg === '--color' ? argv[++i] : arg.slice('--color='.length);
    if (value !== 'auto' && value !== 'always' && value !== 'never')
      throw new ConsortiumError(
        `--color takes auto, always or never, not ${JSON.stringify(value ?? '')}.`,
        EXIT.usage,
      );
    process.env.CONSORTIUM_COLOR = value;
  }
  return out;
}

/** An unknown command: exit 2, with the nearest one when it looks like a slip. */
function noSuchCommand(name: string): ConsortiumError {
  const near = closest(name, Object.keys(COMMANDS));
  return new ConsortiumError(
    `There is no command ${JSON.stringify(name)}.${near ? ` Did you mean ${near}?` : ''} Run git consortium help for the list.`,
    EXIT.usage,
  );
}

const wantsHelp = (argv: string[]) => {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
};

async function main(given: string[]): Promise<number> {
  const argv = takeColor(given);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    writeTo(1, `${generalHelp(await allCommands())}\n`);
    return EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    const { version } = await import('./version.js');
    writeTo(1, `git-consortium ${version}\n`);
    return EXIT.ok;
  }
  if (name === 'help') {
    const topic = rest[0];
    const load = topic !== undefined && Object.hasOwn(COMMANDS, topic) ? COMMANDS[topic] : undefined;
    const help = load && (await load()).command;
    if (topic !== undefined && !help) throw noSuchCommand(topic);
    writeTo(1, `${help ? commandHelp(help) : generalHelp(await allCommands())}\n`);
    return EXIT.ok;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    throw noSuchCommand(name);
  }
  const command = await load();
  if (name !== 'hook' && name !== 'claude-hook' && wantsHelp(rest)) {
    writeTo(1, `${commandHelp(command.command)}\n`);
    return EXIT.ok;
  }
  return (await command.run(rest)) ?? EXIT.ok;
}

/**
 * Dispatch: find the command, load its module (and nothing else), run it, and turn errors into
 * a plain message on stderr and an exit code, never a stack trace. cli.ts calls it for the
 * process; tests call it in-process with captured output (test/helpers/in-process.ts).
 */
export async function dispatch(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (error) {
    return reportError(error);
  }
}
