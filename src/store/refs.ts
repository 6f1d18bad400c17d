/**
 * The ref layout, in one place. Local records live under refs/consortium/; what was last
 * fetched from the remote is mirrored under refs/consortium-remote/ (never in the remote's
 * default fetch refspec, so an ordinary `git fetch` cannot overwrite newer local records).
 */
export const LOCAL = 'refs/consortium/';
export const MIRROR = 'refs/consortium-remote/';
export const NOTES_REF = 'refs/notes/consortium';
export const NOTES_MIRROR = 'refs/notes/consortium-remote';

export const sessionRef = (id: string) => `${LOCAL}sessions/${id}`;
export const SESSIONS = `${LOCAL}sessions/`;
export const MIRRORED_SESSIONS = `${MIRROR}sessions/`;
export const LEASES_REF = `${LOCAL}leases`;
export const LEASES_MIRROR = `${MIRROR}leases`;

/** refs/consortium/x -> refs/consortium-remote/x (and the notes ref to its mirror). */
export function mirrorOf(ref: string): string {
  if (ref === NOTES_REF) return NOTES_MIRROR;
  if (!ref.startsWith(LOCAL)) throw new Error(`not a coordination ref: ${ref}`);
  return MIRROR + ref.slice(LOCAL.length);
}

/** refs/consortium-remote/x -> refs/consortium/x. */
export function localOf(ref: string): string {
  if (ref === NOTES_MIRROR) return NOTES_REF;
  return ref.startsWith(MIRROR) ? LOCAL + ref.slice(MIRROR.length) : ref;
}
