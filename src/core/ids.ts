import { closeSync, openSync, readSync } from 'node:fs';
import { nodeCrypto } from './lazy-modules.js';

/**
 * Random bytes as hex, for ids and private names: read from the kernel's generator, which
 * node:crypto draws on too, without loading node:crypto (about 4 ms of every push and start).
 */
export function randomHex(bytes: number): string {
  const buffer = Buffer.alloc(bytes);
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      if (readSync(fd, buffer, 0, bytes, null) === bytes) return buffer.toString('hex');
    } finally {
      closeSync(fd);
    }
  } catch {
    // no /dev/urandom here: Node's own generator
  }
  return nodeCrypto().randomBytes(bytes).toString('hex');
}

import { usageError } from './errors.js';

/**
 * Researcher ids become folder names, ref names and branch names, so they are held to the
 * strictest of those rules (SPEC section 3). Anything else is refused wherever it enters.
 */
const RESEARCHER_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const GATE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const SESSION_ID = /^\d{8}-\d{9}-[0-9a-f]{6}$/;

export function researcherIdProblem(id: string): string | undefined {
  if (!RESEARCHER_ID.test(id)) {
    return 'a researcher id is 1 to 64 lowercase letters, digits, ".", "_" or "-", beginning with a letter or digit';
  }
  if (id.includes('..')) return 'a researcher id may not contain ".."';
  if (id.endsWith('.lock')) return 'a researcher id may not end in ".lock"';
  return undefined;
}

/** Shows a value safely inside a message: quoted, control characters escaped, long ones cut. */
export function shown(value: string): string {
  const cut = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return JSON.stringify(cut);
}

export function checkResearcherId(id: string, source: string): string {
  const problem = researcherIdProblem(id);
  if (problem) throw usageError(`${shown(id)} from ${source} is not a valid researcher id: ${problem}.`);
  return id;
}

/**
 * A short name for a text (FNV-1a, 32 bits, in hex): for file names and keys of local state
 * that a hook computes on every tool call, where loading crypto would cost more than the work.
 * Not for anything an adversary chooses to collide.
 */
export function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

export const isGateId = (id: string) => GATE_ID.test(id) && !id.includes('..') && !id.endsWith('.lock');
export const isSessionId = (id: string) => SESSION_ID.test(id);

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `20261125-084428123-4f2a9c`: sorts by creation time, unique by its random tail. */
export function newSessionId(now: Date): string {
  const day = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}`;
  const time = `${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  return `${day}-${time}${pad(now.getUTCMilliseconds(), 3)}-${randomHex(3)}`;
}

/** `yyyymmdd-hhmmss` in UTC, the tail of a session branch name. */
export function branchStamp(now: Date): string {
  return `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}-${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
}

/** The shortest suffix, of at least `min` characters, that tells each id from all the others (as git abbreviates). */
export function shortIds(ids: Iterable<string>, min = 6): Map<string, string> {
  const all = [...new Set(ids)];
  // Ids sorted by their reversed text: an id shares its longest suffix with a neighbour there,
  // so one pass finds how long each suffix must be (status lists hundreds of sessions).
  const reversed = all.map((id) => [...id].reverse().join(''));
  const order = all.map((_, i) => i).sort((a, b) => (reversed[a]! < reversed[b]! ? -1 : 1));
  const common = (a: number | undefined, b: number) => {
    if (a === undefined) return 0;
    const x = reversed[a]!;
    const y = reversed[b]!;
    let n = 0;
    while (n < x.length && n < y.length && x[n] === y[n]) n++;
    return n;
  };
  const short = new Map<string, string>();
  order.forEach((index, k) => {
    const id = all[index]!;
    let n = Math.min(
      id.length,
      Math.max(min, common(order[k - 1], index) + 1, common(order[k + 1], index) + 1),
    );
    // A suffix never starts at a dash: "-4f2a9c" would read as an option.
    while (n < id.length && id.slice(-n).startsWith('-')) n++;
    short.set(id, id.slice(-n));
  });
  return new Map(all.map((id) => [id, short.get(id)!]));
}
