import type { CommandSpec } from '../core/command.js';
import { print } from '../core/output.js';
import { commandHelp } from '../help.js';

/** A bare noun (`git consortium ci`, `git consortium mcp`) lists its verbs: its help, exit 0. */
export function listVerbs(command: CommandSpec): number {
  print(commandHelp(command));
  return 0;
}
