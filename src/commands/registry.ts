import type { CommandSpec } from '../core/command.js';

/**
 * Every command by name, loaded only when it runs (a git hook pays for nothing else). Each
 * module declares itself (`command`) and runs (`run`).
 */
export type CommandModule = {
  command: CommandSpec;
  run(argv: string[]): Promise<number | undefined>;
};

export const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  init: () => import('./init.js'),
  orient: () => import('./orient.js'),
  start: () => import('./start.js'),
  status: () => import('./status.js'),
  heartbeat: () => import('./heartbeat.js'),
  end: () => import('./end.js'),
  compact: () => import('./compact.js'),
  handoff: () => import('./handoff.js'),
  sync: () => import('./sync.js'),
  lease: () => import('./lease.js'),
  approve: () => import('./approve.js'),
  check: () => import('./check.js'),
  gates: () => import('./gates.js'),
  recover: () => import('./recover.js'),
  audit: () => import('./audit.js'),
  uninstall: () => import('./uninstall.js'),
  checkpoint: () => import('./checkpoint.js'),
  doctor: () => import('./doctor.js'),
  demo: () => import('./demo.js'),
  hook: () => import('./hook.js'),
  'claude-hook': () => import('./claude-hook.js'),
  mcp: () => import('./mcp.js'),
  server: () => import('./server.js'),
  ci: () => import('./ci.js'),
  share: () => import('./share.js'),
  help: () => import('./help.js'),
  version: () => import('./version.js'),
  completion: () => import('./completion.js'),
};

/** Every command's declaration, in the order of the general help (loads every module). */
export async function allCommands(): Promise<CommandSpec[]> {
  return Promise.all(Object.values(COMMANDS).map(async (load) => (await load()).command));
}
