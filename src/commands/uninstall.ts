import { parse } from '../core/args.js';
import { print, printJson } from '../core/output.js';
import { openRepo } from '../git/repo.js';
import { uninstallHooks } from '../services/install.js';

/** Puts back the hooks setup init found; the coordination refs and notes are left alone. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parse('uninstall', argv, { json: { type: 'boolean' } });
  const repo = openRepo();
  const changes = uninstallHooks(repo);
  if (values.json) printJson({ changes, nothingToChange: changes.length === 0 });
  else if (changes.length === 0)
    print('git consortium uninstall: nothing to undo (the hooks are not installed).');
  else {
    print('git consortium uninstall:');
    for (const c of changes) print(`  - ${c}`);
    print('The coordination refs and notes are kept (refs/consortium/*, refs/notes/consortium).');
  }
  return 0;
}
