#!/usr/bin/env node
/**
 * Dispatch only: find the command, load its module (and nothing else), run it, and turn
 * errors into a plain message and an exit code. Never a stack trace.
 */
import { ConsortiumError, EXIT } from './core/errors.js';
import { commandHelp, findHelp, generalHelp } from './help.js';

type CommandModule = { run(argv: string[]): Promise<number | undefined> };

const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  init: () => import('./commands/init.js'),
  orient: () => import('./commands/orient.js'),
  start: () => import('./commands/start.js'),
  status: () => import('./commands/status.js'),
  heartbeat: () => import('./commands/heartbeat.js'),
  end: () => import('./commands/end.js'),
  compact: () => import('./commands/compact.js'),
  handoff: () => import('./commands/handoff.js'),
  sync: () => import('./commands/sync.js'),
  lease: () => import('./commands/lease.js'),
  approve: () => import('./commands/approve.js'),
  check: () => import('./commands/check.js'),
  gates: () => import('./commands/gates.js'),
  recover: () => import('./commands/recover.js'),
  audit: () => import('./commands/audit.js'),
  uninstall: () => import('./commands/uninstall.js'),
  checkpoint: () => import('./commands/checkpoint.js'),
  doctor: () => import('./commands/doctor.js'),
  demo: () => import('./commands/demo.js'),
  hook: () => import('./commands/hook.js'),
  'claude-hook': () => import('./commands/claude-hook.js'),
  mcp: () => import('./commands/mcp.js'),
  ci: () => import('./commands/ci.js'),
  share: () => import('./commands/share.js'),
};

const wantsHelp = (argv: string[]) => {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(`${generalHelp()}\n`);
    return EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    const { version } = await import('./version.js');
    process.stdout.write(`git-consortium ${version}\n`);
    return EXIT.ok;
  }
  if (name === 'help') {
    const topic = rest[0];
    const help = topic === undefined ? undefined : findHelp(topic);
    if (topic !== undefined && !help)
      throw new ConsortiumError(
        `There is no command ${JSON.stringify(topic)}. Run git consortium help for the list.`,
        EXIT.usage,
      );
    process.stdout.write(`${help ? commandHelp(help) : generalHelp()}\n`);
    return EXIT.ok;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    throw new ConsortiumError(
      `There is no command ${JSON.stringify(name)}. Run git consortium help for the list.`,
      EXIT.usage,
    );
  }
  if (name !== 'hook' && name !== 'claude-hook' && wantsHelp(rest)) {
    process.stdout.write(`${commandHelp(findHelp(name)!)}\n`);
    return EXIT.ok;
  }
  const command = await load();
  return (await command.run(rest)) ?? EXIT.ok;
}

// A reader that stops early (`| head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConsortiumError) {
      process.stderr.write(`git-consortium: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`git-consortium: unexpected error: ${message.split('\n')[0]}\n`);
    if (process.env.CONSORTIUM_DEBUG) process.stderr.write(`${error instanceof Error ? error.stack : ''}\n`);
    process.exitCode = EXIT.environment;
  },
);
