import { allCommands, COMMANDS } from './commands/registry.js';
import { ConsortiumError, EXIT } from './core/errors.js';
import { commandHelp, generalHelp } from './help.js';
import { reportError } from './report-error.js';

const wantsHelp = (argv: string[]) => {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(`${generalHelp(await allCommands())}\n`);
    return EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    const { version } = await import('./version.js');
    process.stdout.write(`git-consortium ${version}\n`);
    return EXIT.ok;
  }
  if (name === 'help') {
    const topic = rest[0];
    const load = topic !== undefined && Object.hasOwn(COMMANDS, topic) ? COMMANDS[topic] : undefined;
    const help = load && (await load()).command;
    if (topic !== undefined && !help)
      throw new ConsortiumError(
        `There is no command ${JSON.stringify(topic)}. Run git consortium help for the list.`,
        EXIT.usage,
      );
    process.stdout.write(`${help ? commandHelp(help) : generalHelp(await allCommands())}\n`);
    return EXIT.ok;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    throw new ConsortiumError(
      `There is no command ${JSON.stringify(name)}. Run git consortium help for the list.`,
      EXIT.usage,
    );
  }
  const command = await load();
  if (name !== 'hook' && name !== 'claude-hook' && wantsHelp(rest)) {
    process.stdout.write(`${commandHelp(command.command)}\n`);
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
