/**
 * Values the specification and the issues state, shared by the tests that check them, so each
 * list is written once.
 */

/** The hostile researcher names of the foundation issue (the empty string aside: it means unset for the variable). */
export const HOSTILE_NAMES = [
  '../x',
  '--upload-pack=touch pwned',
  'a b',
  'Upper',
  'x.lock',
  'a..b',
  'élodie',
  'x'.repeat(200),
  'refs/heads/main',
  'a\nb',
  '$(touch x)',
];

/** The fixed sections of a handoff (SPEC section 8), in order. */
export const HANDOFF_SECTIONS = [
  '## Session',
  '## Protocol impact',
  '## Gates',
  '## Work done',
  '## Open conflicts and leases',
  '## Summary',
  '## Next steps',
];
