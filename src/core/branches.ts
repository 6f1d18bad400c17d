/**
 * Session branches are `<prefix><researcher>-<yyyymmdd-hhmmss>`. Since researcher ids may
 * contain `-`, the researcher is the longest known id that follows the prefix.
 */
export function researcherOfBranch(
  branch: string,
  prefix: string,
  known: Iterable<string>,
): string | undefined {
  if (!branch.startsWith(prefix)) return undefined;
  const rest = branch.slice(prefix.length);
  let best: string | undefined;
  for (const id of known) {
    if (rest.startsWith(`${id}-`) && (!best || id.length > best.length)) best = id;
  }
  if (best) return best;
  // With no known researchers (no list, no folders), read the id before the time stamp.
  return /^(.+?)-\d{8}-\d{6}(?:-.*)?$/.exec(rest)?.[1];
}

export const sessionBranchName = (prefix: string, researcher: string, stamp: string) =>
  `${prefix}${researcher}-${stamp}`;
