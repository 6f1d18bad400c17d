import { type Caller, forPersonOnly, type Remedy } from '../core/remedies.js';

/**
 * A refusal's remedies as one sentence for its caller: commands for a terminal, tools for an
 * MCP client; an agent never reads a remedy that is a person's decision.
 */
export function wordRemedies(remedies: readonly Remedy[], caller: Caller): string {
  const shown = remedies.filter((r) => caller.actor === 'person' || !forPersonOnly(r));
  const parts = shown.map((r) => phrase(r, caller)).filter(Boolean);
  if (parts.length === 0) return '';
  const sentence = parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')}, or ${parts.at(-1)}`;
  return `${sentence[0]!.toUpperCase()}${sentence.slice(1)}.`;
}

/** Facts and remedies as one message: what the refused caller reads. */
export const withRemedies = (facts: string, remedies: readonly Remedy[], caller: Caller): string =>
  [facts, wordRemedies(remedies, caller)].filter(Boolean).join(' ');

/** A word a shell reads as it is: quoted unless it is plain. */
const shellWord = (word: string) =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;

function phrase(r: Remedy, caller: Caller): string {
  switch (r.kind) {
    case 'wait-for-expiry':
      return 'wait for it to expire';
    case 'ask-to-release': {
      const how =
        caller.via === 'mcp'
          ? `the lease_release tool with ${JSON.stringify(r.pattern)}`
          : `git consortium lease release ${r.pattern}`;
      return `ask ${r.researchers.join(' or ')} to release it (${how} in their session)`;
    }
    case 'break-lease':
      return 'break it with --force --reason TEXT (recorded for everyone)';
    case 'work-elsewhere':
      return 'meanwhile work on something else';
    case 'agree':
      return r.because === 'protocol'
        ? `agree on one change with ${r.researchers.join(', ')} before editing, or the push will meet a protocol conflict`
        : r.because === 'lines'
          ? `agree with ${r.researchers.join(' and ')} on one version of these lines before either branch is merged`
          : `change it only with the agreement of ${r.researchers.join(', ')}`;
    case 'keep-outside':
      return `keep your change outside ${r.lines}`;
    case 'take-lease': {
      const how =
        caller.via === 'mcp'
          ? `the lease_acquire tool with ${JSON.stringify([r.pattern])}`
          : `git consortium lease acquire ${shellWord(`:/${r.pattern}`)}`;
      return `take a lease on the file (${how}) so that nobody changes it meanwhile`;
    }
    case 'ask-person':
      return 'stop and ask a person';
  }
}
