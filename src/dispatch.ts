import { allCommands, COMMANDS } from './commands/registry.js';
import { ConsortiumError, EXIT } from './core/errors.js';
import { commandHelp, generalHelp } from './help.js';

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
    return report(error);
  }
}

async function report(error: unknown): Promise<number> {
  if (error instanceof ConsortiumError) {
    if (error.remedies.length === 0) process.stderr.write(`git-consortium: ${error.message}\n`);
    else {
      // Only a refusal with ways out loads their wording, and words them for who runs this.
      const [agent, render] = await Promise.all([import('./core/agent.js'), import('./render/remedies.js')]);
      const caller = { actor: agent.agentEnvironment() ? 'agent' : 'person', via: 'cli' } as const;
      process.stderr.write(`git-consortium: ${render.withRemedies(error.message, error.remedies, caller)}\n`);
    }
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`git-consortium: unexpected error: ${message.split('\n')[0]}\n`);
  if (process.env.CONSORTIUM_DEBUG) process.stderr.write(`${error instanceof Error ? error.stack : ''}\n`);
  return EXIT.environment;
}
