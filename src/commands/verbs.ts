import { print } from '../core/output.js';
import { commandHelp, findHelp } from '../help.js';

/** A bare noun (`git consortium ci`, `git consortium mcp`) lists its verbs: its help, exit 0. */
export function listVerbs(name: string): number {
  print(commandHelp(findHelp(name)!));
  return 0;
}
