/**
 * Lines `first` .. `first + count - 1` of a text, counted from 1. A span of no lines is the
 * place before line `first` (after line `first - 1`): where an insertion goes. Shared by the
 * line diff (analysis), git's hunks (git) and the line index (services).
 */
export interface Span {
  first: number;
  count: number;
}

/** One change of a diff: the lines `old` of the first text became the lines `new` of the second. */
export interface Hunk {
  old: Span;
  new: Span;
}
