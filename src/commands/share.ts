import { openContext } from '../context/context.js';
import { LOCAL, NOTES_REF } from '../store/refs.js';
import { pushRefs } from '../store/remote.js';

/** Internal: pushes coordination refs (run detached by hooks and heartbeats). */
export async function run(argv: string[]): Promise<number> {
  const refs = argv.filter(
    (r) => (r.startsWith(LOCAL) || r === NOTES_REF) && !r.includes('..') && !/\s/.test(r),
  );
  const ctx = await openContext();
  const result = await pushRefs(ctx.repo, ctx.config, refs, 15_000);
  return result.outcome.ok ? 0 : 3;
}
