import type { Config, ServerIdentity } from '../core/config.js';
import { nodeCrypto } from '../core/lazy-modules.js';

/**
 * Who pushes, as the server knows it (SPEC section 13): configured, never guessed. A host
 * that authenticates its users says so in a variable of its own (gitolite GL_USER, Gitea
 * GITEA_PUSHER_NAME, GitLab GL_USERNAME), whose value is the researcher's id; a signed push
 * (`git push --signed`) names its key, which must be one listed under a researcher's `keys`.
 * With `identity: none` nobody is known and ownership is not enforced.
 */
export interface Pusher {
  /** Whether the server enforces ownership for this push (identity is not `none`). */
  known: boolean;
  /** The researcher the pusher is; undefined when known is true but they are nobody listed. */
  researcher?: string;
  /** How the server knows, for messages ("GL_USER=elena-vasquez", "a push signed by ..."). */
  detail: string;
}

const HOST_VARIABLE: Record<Exclude<ServerIdentity, 'none' | 'signed'>, string> = {
  gitolite: 'GL_USER',
  gitea: 'GITEA_PUSHER_NAME',
  gitlab: 'GL_USERNAME',
};

export function whoPushes(config: Config, researchers: Map<string, unknown>, env = process.env): Pusher {
  const mode = config.server.identity;
  if (mode === 'none') return { known: false, detail: 'server.identity is none' };
  if (mode === 'signed') return signedPusher(config, env);
  const variable = HOST_VARIABLE[mode];
  const user = env[variable];
  if (!user) return { known: true, detail: `${variable} is not set` };
  return researchers.has(user)
    ? { known: true, researcher: user, detail: `${variable}=${user}` }
    : { known: true, detail: `${variable}=${user}, not a researcher` };
}

/**
 * A signed push whose certificate git verified as good (status G) is the researcher's whose
 * listed key has the fingerprint git names (GIT_PUSH_CERT_KEY, SHA256:... for an SSH key).
 */
function signedPusher(config: Config, env: NodeJS.ProcessEnv): Pusher {
  const status = env.GIT_PUSH_CERT_STATUS;
  if (!env.GIT_PUSH_CERT) return { known: true, detail: 'the push is not signed' };
  if (status !== 'G')
    return { known: true, detail: `the push certificate is not good (status ${status || 'none'})` };
  // A certificate replayed from an earlier push carries an old nonce: git says so.
  const nonce = env.GIT_PUSH_CERT_NONCE_STATUS;
  if (nonce !== 'OK' && nonce !== 'SLOP')
    return {
      known: true,
      detail: `the push certificate's nonce is not this push's (status ${nonce || 'none'})`,
    };
  const key = env.GIT_PUSH_CERT_KEY ?? '';
  for (const r of config.researchers.values())
    if (r.keys.some((k) => key.includes(fingerprint(k))))
      return { known: true, researcher: r.id, detail: `a push signed with ${r.id}'s key` };
  return { known: true, detail: `a push signed with a key no researcher lists (${key})` };
}

/** An OpenSSH key's SHA256 fingerprint, as ssh-keygen -l prints it. */
export function fingerprint(publicKey: string): string {
  const body = publicKey.split(/\s+/)[1] ?? '';
  const digest = nodeCrypto().createHash('sha256').update(Buffer.from(body, 'base64')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}
