import { writeTo } from './core/stdio.js';
import * as postReceive from './hooks/post-receive.js';
import * as preReceive from './hooks/pre-receive.js';

/**
 * The way in of the server's hooks (`hook pre-receive`, `hook post-receive`, which the scripts
 * of `server install` run): a bundle of their own (scripts/postbuild.mjs), so that the hooks of
 * every clone, which run far more often, do not load the server's code. Never turned off by a
 * pusher's CONSORTIUM=0 (a pusher's variables reach the server over file://). A failure of
 * ours is one line and exit 3 for pre-receive, which its script then decides by
 * server.onError; post-receive cannot refuse anything and exits 0.
 */
export async function runServerHook(argv: string[]): Promise<number> {
  const [, name, ...args] = argv;
  try {
    return await (name === 'pre-receive' ? preReceive : postReceive).run(args);
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    writeTo(2, `git-consortium server (${name} hook): ${message}\n`);
    if (process.env.CONSORTIUM_DEBUG && error instanceof Error) writeTo(2, `${error.stack}\n`);
    return name === 'pre-receive' ? 3 : 0;
  }
}
