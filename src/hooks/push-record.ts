import { openContext } from '../context/context.js';
import { recordOrdered } from '../services/push-record.js';

/**
 * `hook push-record <file>`: the detached half of pre-push, started by the gate once a push
 * may go ahead (services/push-record.ts), never by git itself. Nobody reads its output.
 */
export async function run(args: string[]): Promise<number> {
  const [file] = args;
  if (!file) return 0;
  await recordOrdered(await openContext(), file);
  return 0;
}
