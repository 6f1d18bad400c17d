import { usageError } from '../core/errors.js';

export async function run(_argv: string[]): Promise<number> {
  throw usageError('git consortium uninstall is not available in this build yet.');
}
