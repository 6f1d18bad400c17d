import { splitLines } from './line-diff.js';
import { replacedSpans, type Span } from './lines.js';

/**
 * The lines an editing tool of Claude Code will replace, in the file as it is now, from the
 * tool's input alone: Edit and MultiEdit by applying their replacements, Write by its new
 * content, NotebookEdit by the cell it names. Undefined when that cannot be told (the text to
 * replace is not there, so the tool will fail anyway, or the input is not one of these).
 */
export function editedSpans(
  tool: string | undefined,
  input: Record<string, unknown> | undefined,
  current: string | undefined,
): Span[] | undefined {
  if (!input) return undefined;
  // Claude Code gives the model a CRLF file's text with LF line ends, and its Edit's old text
  // so: matched against the file read the same way (line numbers do not change).
  const text = (current ?? '').replace(/\r\n/g, '\n');
  switch (tool) {
    case 'Write':
      return typeof input.content === 'string' ? replacedSpans(text, input.content) : undefined;
    case 'Edit': {
      const next = replaced(text, input);
      return next === undefined ? undefined : replacedSpans(text, next);
    }
    case 'MultiEdit': {
      if (!Array.isArray(input.edits)) return undefined;
      let next: string | undefined = text;
      for (const edit of input.edits) {
        next = next === undefined || !edit || typeof edit !== 'object' ? undefined : replaced(next, edit);
      }
      return next === undefined ? undefined : replacedSpans(text, next);
    }
    case 'NotebookEdit':
      return notebookCell(text, input.cell_id, input.edit_mode);
    default:
      return undefined;
  }
}

/** The text after one replacement of Edit or MultiEdit, or undefined when its old text is not there. */
function replaced(text: string, edit: Record<string, unknown>): string | undefined {
  const { old_string: from, new_string: to, replace_all: all } = edit;
  if (typeof from !== 'string' || typeof to !== 'string') return undefined;
  if (from === '') return text === '' ? to : undefined;
  if (!text.includes(from)) return undefined;
  return all === true ? text.split(from).join(to) : text.replace(from, () => to);
}

/**
 * The lines of a notebook cell in the notebook's JSON as Jupyter writes it (one key a line, the
 * cells as objects of the `cells` array): from the `{` before its `"id"` line to the matching
 * `}`. An insertion goes after the cell; without a cell that can be found, the whole notebook.
 */
function notebookCell(text: string, cellId: unknown, mode: unknown): Span[] {
  const lines = splitLines(text);
  const whole = [{ first: 1, count: lines.length }];
  if (typeof cellId !== 'string' || cellId === '') return whole;
  const idLine = lines.findIndex((l) => l.trim().replace(/,$/, '') === `"id": ${JSON.stringify(cellId)}`);
  if (idLine < 0) return whole;
  const indent = (l: string) => l.length - l.trimStart().length;
  let start = idLine;
  while (start > 0 && !(lines[start]!.trim() === '{' && indent(lines[start]!) < indent(lines[idLine]!)))
    start--;
  let end = idLine;
  const closing = indent(lines[start]!);
  while (end < lines.length - 1 && !(/^\s*\},?$/.test(lines[end]!) && indent(lines[end]!) === closing)) end++;
  if (mode === 'insert') return [{ first: end + 2, count: 0 }];
  return [{ first: start + 1, count: end - start + 1 }];
}
