import path from 'node:path';

/**
 * A reader of the bash commands an agent runs through Claude Code's Bash tool, for two
 * questions asked before the command runs: which files does it plainly write (so a write to a
 * file another session leases is refused), and does it try to push past the pre-push gate.
 *
 * It reads; it never runs anything. What it cannot read (an expansion, a word it cannot know,
 * a command that changes files it does not name) is never refused for that alone: the result
 * says `unreadable`, and what could be read is still reported. Recursion into `bash -c`,
 * `eval` and `$(...)` is bounded, and the scan is linear in the text, whatever it holds.
 */
export interface FileWrite {
  /** Absolute and normalised. */
  path: string;
  how: string;
}

export interface ShellWrites {
  writes: FileWrite[];
  unreadable: boolean;
}

export type BypassForm =
  | 'override-variable'
  | 'push-option'
  | 'no-verify'
  | 'husky-off'
  | 'consortium-off'
  | 'hooks-path'
  | 'coordination-refs'
  | 'agent-env'
  | 'approval';

export interface Bypass {
  form: BypassForm;
  /** The words that showed it, short, for a message to a person. */
  detail: string;
}

// --- reading the text ------------------------------------------------------------------------

/** A word as the shell would pass it; `known` is false when its value depends on expansion. */
interface Word {
  text: string;
  known: boolean;
  /** `NAME` when the word is an assignment NAME=value (unquoted name). */
  assigns?: string;
}

interface Redirect {
  op: string;
  target: Word;
}

interface Simple {
  words: Word[];
  redirects: Redirect[];
}

interface Parsed {
  commands: Simple[];
  unreadable: boolean;
}

const MAX_DEPTH = 4;
const MAX_TEXT = 200_000;
const OPERATOR = /[;&|()\n]/;
const BLANK = /[ \t\r]/;
const NOT_WRITTEN = /^\/dev\/(null|stdout|stderr|tty|fd\/.*)$/;

function parse(source: string, depth: number): Parsed {
  const out: Parsed = { commands: [], unreadable: false };
  if (depth > MAX_DEPTH || source.length > MAX_TEXT) return { commands: [], unreadable: true };
  const text = source;
  let i = 0;
  let current: Simple = { words: [], redirects: [] };
  const heredocs: { delimiter: string; strip: boolean }[] = [];
  const nested: string[] = [];

  const finish = () => {
    if (current.words.length || current.redirects.length) out.commands.push(current);
    current = { words: [], redirects: [] };
  };

  /** Skips the bodies of the heredocs opened on the line that just ended. */
  const skipHeredocs = () => {
    while (heredocs.length) {
      const { delimiter, strip } = heredocs.shift()!;
      for (;;) {
        if (i >= text.length) {
          out.unreadable = true;
          return;
        }
        const end = text.indexOf('\n', i);
        const line = text.slice(i, end < 0 ? text.length : end);
        i = end < 0 ? text.length : end + 1;
        if ((strip ? line.replace(/^\t+/, '') : line) === delimiter) break;
      }
    }
  };

  /** Reads `$(...)` or `((...))` contents from just after the opening: balanced, quote-aware. */
  const readBalanced = (open: string, close: string): string | undefined => {
    let level = 1;
    const start = i;
    while (i < text.length) {
      const ch = text[i]!;
      if (ch === '\\') i += 2;
      else if (ch === "'") {
        const end = text.indexOf("'", i + 1);
        if (end < 0) break;
        i = end + 1;
      } else if (ch === '"') {
        i++;
        while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
        i++;
      } else {
        if (ch === open) level++;
        else if (ch === close && --level === 0) {
          i++;
          return text.slice(start, i - 1);
        }
        i++;
      }
    }
    out.unreadable = true;
    return undefined;
  };

  /** Reads `$...` at text[i] === '$': an expansion (unknown), or the text of `$'...'`. */
  const readDollar = (word: { text: string; known: boolean }, quoted: boolean) => {
    const next = text[i + 1];
    if (next === '(' && text[i + 2] === '(') {
      i += 3;
      readBalanced('(', ')');
      if (text[i] === ')') i++;
      word.known = false;
    } else if (next === '(') {
      i += 2;
      const inner = readBalanced('(', ')');
      if (inner !== undefined) nested.push(inner);
      word.known = false;
    } else if (next === '{') {
      i += 2;
      readBalanced('{', '}');
      word.known = false;
    } else if (next === "'" && !quoted) {
      i += 2;
      while (i < text.length && text[i] !== "'") {
        if (text[i] === '\\' && i + 1 < text.length) {
          const e = text[i + 1]!;
          word.text += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          i += 2;
        } else word.text += text[i++];
      }
      i++;
    } else if (next !== undefined && /[A-Za-z0-9_@*#?$!-]/.test(next)) {
      i += 2;
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i]!)) i++;
      word.known = false;
    } else {
      word.text += '$';
      i++;
    }
  };

  /** Reads one word from text[i], which is not blank and not an operator. */
  const readWord = (): Word => {
    const word: Word = { text: '', known: true };
    let nameEnd = -1;
    let quotedSoFar = false;
    const start = i;
    while (i < text.length) {
      const ch = text[i]!;
      if (BLANK.test(ch) || OPERATOR.test(ch) || ch === '<' || ch === '>') break;
      if (ch === '\\') {
        if (text[i + 1] === '\n') i += 2;
        else {
          word.text += text[i + 1] ?? '';
          i += 2;
          quotedSoFar = true;
        }
      } else if (ch === "'") {
        const end = text.indexOf("'", i + 1);
        if (end < 0) {
          out.unreadable = true;
          word.text += text.slice(i + 1);
          i = text.length;
        } else {
          word.text += text.slice(i + 1, end);
          i = end + 1;
        }
        quotedSoFar = true;
      } else if (ch === '"') {
        i++;
        while (i < text.length && text[i] !== '"') {
          const c = text[i]!;
          if (c === '\\' && /[$`"\\\n]/.test(text[i + 1] ?? '')) {
            if (text[i + 1] !== '\n') word.text += text[i + 1];
            i += 2;
          } else if (c === '$') readDollar(word, true);
          else if (c === '`') readBacktick(word);
          else word.text += text[i++];
        }
        if (i >= text.length) out.unreadable = true;
        i++;
        quotedSoFar = true;
      } else if (ch === '$') readDollar(word, false);
      else if (ch === '`') readBacktick(word);
      else {
        if (ch === '=' && nameEnd < 0 && !quotedSoFar && /^[A-Za-z_][A-Za-z0-9_]*$/.test(word.text))
          nameEnd = word.text.length;
        // Globs and a leading ~ expand to what only the file system knows.
        if (/[*?[]/.test(ch) || (ch === '~' && i === start)) word.known = false;
        word.text += ch;
        i++;
      }
    }
    if (nameEnd >= 0) word.assigns = word.text.slice(0, nameEnd);
    return word;
  };

  const readBacktick = (word: { known: boolean }) => {
    const end = text.indexOf('`', i + 1);
    if (end < 0) {
      out.unreadable = true;
      i = text.length;
    } else {
      nested.push(text.slice(i + 1, end));
      i = end + 1;
    }
    word.known = false;
  };

  const skipBlanks = () => {
    while (i < text.length && BLANK.test(text[i]!)) i++;
    if (text[i] === '\\' && text[i + 1] === '\n') {
      i += 2;
      skipBlanks();
    }
  };

  /** A redirection at text[i] (after an optional fd number already consumed). */
  const readRedirect = (prefix: string) => {
    const ops = ['<<<', '<<-', '&>>', '<<', '>>', '>|', '>&', '<&', '<>', '&>', '>', '<'];
    const op = ops.find((o) => text.startsWith(o, i))!;
    i += op.length;
    skipBlanks();
    if (i >= text.length || OPERATOR.test(text[i]!)) {
      out.unreadable = true;
      return;
    }
    const target = readWord();
    if (op === '<<' || op === '<<-') heredocs.push({ delimiter: target.text, strip: op === '<<-' });
    else current.redirects.push({ op: prefix + op, target });
  };

  while (i < text.length) {
    const ch = text[i]!;
    if (BLANK.test(ch)) {
      i++;
    } else if (ch === '\\' && text[i + 1] === '\n') {
      i += 2;
    } else if (ch === '#' && current.words.length === 0 && current.redirects.length === 0) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (ch === '\n') {
      finish();
      i++;
      skipHeredocs();
    } else if (ch === '&' && text[i + 1] === '>') {
      readRedirect('');
    } else if (OPERATOR.test(ch)) {
      finish();
      i++;
    } else if (ch === '<' || ch === '>') {
      readRedirect('');
    } else if (/[0-9]/.test(ch) && /^[0-9]+[<>]/.test(text.slice(i, i + 12))) {
      const fd = /^[0-9]+/.exec(text.slice(i, i + 12))![0];
      i += fd.length;
      readRedirect(fd);
    } else {
      current.words.push(readWord());
    }
  }
  finish();
  if (heredocs.length) out.unreadable = true;
  for (const inner of nested) {
    const parsed = parse(inner, depth + 1);
    out.commands.push(...parsed.commands);
    if (parsed.unreadable) out.unreadable = true;
  }
  return out;
}

// --- what a simple command is ------------------------------------------------------------------

const KEYWORDS = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'do',
  'done',
  'while',
  'until',
  '!',
  '{',
  '}',
  'time',
]);

/** A simple command with its prefixes unwrapped: assignments, env, sudo, nohup, timeout... */
interface Invocation {
  assignments: Word[];
  /** Variables a prefix removes from the command's environment (env -u NAME, env -i: '*'). */
  unsets: string[];
  name: Word | undefined;
  args: Word[];
  /** A command run from a string (bash -c, eval): its text, when it can be known. */
  script?: Word;
}

function invocation(words: Word[]): Invocation {
  const assignments: Word[] = [];
  const unsets: string[] = [];
  let rest = words.filter((w, n) => !(n === 0 && w.known && KEYWORDS.has(w.text)));
  while (rest.length && rest[0]!.known && KEYWORDS.has(rest[0]!.text)) rest = rest.slice(1);
  for (;;) {
    while (rest[0]?.assigns) assignments.push(rest.shift()!);
    const head = rest[0];
    if (!head?.known) break;
    const name = head.text;
    if (name === 'env') {
      rest = rest.slice(1);
      // env's own assignments count whatever their quoting: env reads NAME=value itself.
      for (;;) {
        const word = rest[0];
        if (!word) break;
        if (word.known && /^[A-Za-z_][A-Za-z0-9_]*=/.test(word.text) && !word.assigns)
          word.assigns = word.text.slice(0, word.text.indexOf('='));
        if (word.assigns) {
          assignments.push(rest.shift()!);
          continue;
        }
        if (!word.known || !word.text.startsWith('-')) break;
        const flag = rest.shift()!.text;
        if (flag === '-i' || flag === '--ignore-environment' || flag === '-') unsets.push('*');
        else if (flag === '-u' || flag === '--unset') unsets.push(rest.shift()?.text ?? '*');
        else if (flag.startsWith('--unset=')) unsets.push(flag.slice(8));
        else if (/^-u./.test(flag)) unsets.push(flag.slice(2));
        else if (flag === '-C' || flag === '--chdir') rest.shift();
        if (flag === '--') break;
      }
      continue;
    }
    if (name === 'sudo' || name === 'doas') {
      rest = rest.slice(1);
      while (rest.length && rest[0]!.known && rest[0]!.text.startsWith('-')) {
        const flag = rest.shift()!.text;
        if (/^-[ugpCDhrtU]$/.test(flag)) rest.shift();
        if (flag === '--') break;
      }
      continue;
    }
    if (name === 'script') {
      // script -c CMD runs CMD under a pseudo-terminal: read CMD like bash -c.
      const args = rest.slice(1);
      const c = args.findIndex((a) => a.known && (/^-[a-z]*c$/.test(a.text) || a.text === '--command'));
      const given = args.find((a) => a.known && a.text.startsWith('--command='));
      const script = c >= 0 ? args[c + 1] : given && { ...given, text: given.text.slice(10) };
      return { assignments, unsets, name: head, args, script: script ?? { text: '', known: false } };
    }
    if (['command', 'exec', 'nohup', 'builtin', 'stdbuf', 'time'].includes(name)) {
      rest = rest.slice(1);
      while (rest.length && rest[0]!.known && rest[0]!.text.startsWith('-')) rest.shift();
      continue;
    }
    if (name === 'nice') {
      rest = rest.slice(1);
      while (rest.length && rest[0]!.known && rest[0]!.text.startsWith('-'))
        if (rest.shift()!.text === '-n') rest.shift();
      continue;
    }
    if (name === 'timeout') {
      rest = rest.slice(1);
      while (rest.length && rest[0]!.known && rest[0]!.text.startsWith('-'))
        if (/^-(s|k|-signal|-kill-after)$/.test(rest.shift()!.text)) rest.shift();
      rest = rest.slice(1); // the duration
      continue;
    }
    break;
  }
  const [name, ...args] = rest;
  if (name?.known && /^(ba|z|da|k)?sh$/.test(name.text)) {
    const c = args.findIndex((a) => a.known && /^-[a-z]*c[a-z]*$/.test(a.text));
    if (c >= 0) return { assignments, unsets, name, args, script: args[c + 1] ?? { text: '', known: false } };
  }
  if (name?.known && name.text === 'eval') {
    const known = args.every((a) => a.known);
    return { assignments, unsets, name, args, script: { text: args.map((a) => a.text).join(' '), known } };
  }
  return { assignments, unsets, name, args };
}

/** Operands and options of a command, read the GNU way; `withValue` options take the next word. */
function operands(args: Word[], withValue: RegExp = /^$/): { options: Word[]; operands: Word[] } {
  const options: Word[] = [];
  const found: Word[] = [];
  for (let n = 0; n < args.length; n++) {
    const arg = args[n]!;
    if (arg.known && arg.text === '--') {
      found.push(...args.slice(n + 1));
      break;
    }
    if (arg.known && arg.text.startsWith('-') && arg.text !== '-') {
      options.push(arg);
      if (withValue.test(arg.text) && n + 1 < args.length) options.push(args[++n]!);
    } else found.push(arg);
  }
  return { options, operands: found };
}

// --- writes ------------------------------------------------------------------------------------

export function fileWrites(command: string, cwd: string): ShellWrites {
  const parsed = parse(command, 0);
  const result: ShellWrites = { writes: [], unreadable: parsed.unreadable };
  let here: string | undefined = path.posix.resolve(cwd);
  const add = (word: Word | undefined, how: string, base = here) => {
    if (!word) return;
    if (!word.known || word.text === '') {
      result.unreadable = true;
      return;
    }
    if (NOT_WRITTEN.test(word.text)) return;
    if (!path.posix.isAbsolute(word.text) && base === undefined) {
      result.unreadable = true;
      return;
    }
    const full = path.posix.resolve(base ?? '/', word.text);
    if (!result.writes.some((w) => w.path === full && w.how === how)) result.writes.push({ path: full, how });
  };
  const into = (dir: Word, source: Word, how: string) => {
    if (dir.known && source.known)
      add({ text: path.posix.join(dir.text, path.posix.basename(source.text)), known: true }, how);
    else result.unreadable = true;
  };

  for (const simple of parsed.commands) {
    for (const r of simple.redirects)
      if (/>/.test(r.op) && !/[<>]&$/.test(r.op) && !(r.op.endsWith('>&') || r.op.endsWith('<&')))
        add(r.target, 'redirection');
    const inv = invocation(simple.words);
    if (inv.script) {
      if (!inv.script.known) {
        result.unreadable = true;
        continue;
      }
      const inner = fileWrites(inv.script.text, here ?? '/');
      if (here === undefined) inner.writes = inner.writes.filter((w) => path.posix.isAbsolute(w.path));
      result.writes.push(
        ...inner.writes.filter((w) => !result.writes.some((x) => x.path === w.path && x.how === w.how)),
      );
      if (inner.unreadable) result.unreadable = true;
      continue;
    }
    const name = inv.name;
    if (!name) continue;
    if (!name.known) {
      result.unreadable = true;
      continue;
    }
    const args = inv.args;
    switch (name.text) {
      case 'cd':
      case 'pushd': {
        const target = operands(args).operands[0];
        here =
          target?.known && target.text !== '-' && here !== undefined
            ? path.posix.resolve(here, target.text)
            : target?.known && path.posix.isAbsolute(target.text)
              ? path.posix.resolve(target.text)
              : undefined;
        break;
      }
      case 'popd':
        here = undefined;
        break;
      case 'tee':
        for (const w of operands(args).operands) add(w, 'tee');
        break;
      case 'sed':
        sedWrites(args, 'sed -i', add);
        break;
      case 'perl':
        sedWrites(args, 'perl -i', add);
        break;
      case 'mv':
      case 'cp':
      case 'install': {
        const { options, operands: ops } = operands(
          args,
          /^-([tSmogT]|-target-directory|-suffix|-mode|-owner|-group)$/,
        );
        const target = targetDirectory(options);
        if (name.text === 'install' && options.some((o) => o.known && /^-[a-zA-Z]*d/.test(o.text))) {
          for (const w of ops) add(w, 'install');
          break;
        }
        if (target) {
          for (const src of ops) {
            if (name.text === 'mv') add(src, 'mv');
            into(target, src, name.text);
          }
          break;
        }
        const dest = ops.at(-1);
        const sources = ops.slice(0, -1);
        if (name.text === 'mv') for (const src of sources) add(src, 'mv');
        add(dest, name.text);
        if (dest) for (const src of sources) into(dest, src, name.text);
        break;
      }
      case 'rm':
      case 'unlink':
      case 'shred':
        for (const w of operands(args).operands) add(w, 'rm');
        break;
      case 'truncate':
        for (const w of operands(args, /^-[sr]$|^--(size|reference)$/).operands) add(w, 'truncate');
        break;
      case 'touch':
        for (const w of operands(args, /^-[drt]$|^--(date|reference)$/).operands) add(w, 'touch');
        break;
      case 'dd':
        for (const w of args) if (w.text.startsWith('of=')) add({ ...w, text: w.text.slice(3) }, 'dd');
        break;
      case 'ln': {
        const { options, operands: ops } = operands(args, /^-[tS]$|^--(target-directory|suffix)$/);
        const target = targetDirectory(options);
        if (target) for (const src of ops) into(target, src, 'ln');
        else if (ops.length === 1) into({ text: '.', known: true }, ops[0]!, 'ln');
        else add(ops.at(-1), 'ln');
        break;
      }
      case 'patch': {
        const { options, operands: ops } = operands(
          args,
          /^-[pidBrDFzVo]$|^--(strip|input|directory|output|prefix)$/,
        );
        const output = options.findIndex((o) => o.known && (o.text === '-o' || o.text === '--output'));
        if (output >= 0) add(options[output + 1], 'patch');
        if (ops[0]) add(ops[0], 'patch');
        else if (output < 0) result.unreadable = true;
        break;
      }
      case 'git':
        gitWrites(args, here, add, () => {
          result.unreadable = true;
        });
        break;
      case 'xargs':
      case 'find':
        if (args.some((a) => a.known && /^(-delete|-exec|-execdir|rm|mv|cp|tee|sed|perl)$/.test(a.text)))
          result.unreadable = true;
        break;
    }
  }
  return result;
}

type Add = (word: Word | undefined, how: string, base?: string) => void;

function targetDirectory(options: Word[]): Word | undefined {
  for (let n = 0; n < options.length; n++) {
    const o = options[n]!;
    if (o.known && (o.text === '-t' || o.text === '--target-directory')) return options[n + 1];
    if (o.known && o.text.startsWith('--target-directory=')) return { ...o, text: o.text.slice(19) };
  }
  return undefined;
}

/** `sed -i` and `perl -i`: the files after the script, when editing in place. */
function sedWrites(args: Word[], how: string, add: Add) {
  let inPlace = false;
  let scriptGiven = false;
  const files: Word[] = [];
  for (let n = 0; n < args.length; n++) {
    const arg = args[n]!;
    if (arg.known && arg.text === '--') {
      files.push(...args.slice(n + 1));
      break;
    }
    if (arg.known && arg.text.startsWith('--')) {
      if (arg.text.startsWith('--in-place')) inPlace = true;
      if (arg.text === '--expression' || arg.text === '--file') {
        scriptGiven = true;
        n++;
      } else if (arg.text.startsWith('--expression=') || arg.text.startsWith('--file=')) scriptGiven = true;
      continue;
    }
    if (arg.known && arg.text.startsWith('-') && arg.text.length > 1) {
      // A bundle of letters: -i takes the rest as a suffix; -e/-f (and perl's -E) take a value.
      const letters = arg.text.slice(1);
      for (let k = 0; k < letters.length; k++) {
        const letter = letters[k]!;
        if (letter === 'i') {
          inPlace = true;
          break;
        }
        if (letter === 'e' || letter === 'f' || (how === 'perl -i' && letter === 'E')) {
          scriptGiven = true;
          if (k === letters.length - 1) n++;
          break;
        }
      }
      continue;
    }
    files.push(arg);
  }
  if (!inPlace) return;
  for (const file of scriptGiven ? files : files.slice(1)) add(file, how);
}

/** git's own options before the subcommand: -C, -c and --config-env, and where the subcommand is. */
interface GitCall {
  dirs: Word[];
  configs: string[];
  sub: Word | undefined;
  rest: Word[];
}

function gitCall(args: Word[]): GitCall {
  const call: GitCall = { dirs: [], configs: [], sub: undefined, rest: [] };
  let n = 0;
  for (; n < args.length; n++) {
    const a = args[n]!;
    if (!a.known || !a.text.startsWith('-')) break;
    if (a.text === '-C') call.dirs.push(args[++n] ?? { text: '', known: false });
    else if (a.text === '-c' || a.text === '--config-env') call.configs.push(args[++n]?.text ?? '');
    else if (a.text.startsWith('-c') && a.text.length > 2) call.configs.push(a.text.slice(2));
    else if (a.text.startsWith('--config-env=')) call.configs.push(a.text.slice(13));
    else if (a.text === '--git-dir' || a.text === '--work-tree' || a.text === '--namespace') n++;
  }
  call.sub = args[n];
  call.rest = args.slice(n + 1);
  return call;
}

function gitWrites(args: Word[], here: string | undefined, add: Add, unreadable: () => void) {
  const { dirs, sub, rest } = gitCall(args);
  let base = here;
  for (const dir of dirs)
    base =
      dir.known && base !== undefined
        ? path.posix.resolve(base, dir.text)
        : dir.known && path.posix.isAbsolute(dir.text)
          ? dir.text
          : undefined;
  if (!sub?.known) return;
  const put = (w: Word | undefined, how: string) => add(w, how, base);
  switch (sub.text) {
    case 'checkout': {
      const dash = rest.findIndex((w) => w.known && w.text === '--');
      if (dash >= 0) {
        for (const w of rest.slice(dash + 1)) put(w, 'git checkout');
        break;
      }
      const { operands: ops } = operands(rest, /^-[bBt]$|^--(orphan|conflict)$/);
      for (const w of ops) put(w, 'git checkout');
      break;
    }
    case 'restore':
      for (const w of operands(rest, /^-s$|^--source$/).operands) put(w, 'git restore');
      break;
    case 'rm':
      for (const w of operands(rest).operands) put(w, 'git rm');
      break;
    case 'mv':
      for (const w of operands(rest).operands) put(w, 'git mv');
      break;
    case 'reset':
      if (rest.some((w) => w.known && (w.text === '--hard' || w.text === '--merge' || w.text === '--keep')))
        unreadable();
      break;
    case 'stash':
      if (rest[0]?.known && /^(pop|apply|branch)$/.test(rest[0].text)) unreadable();
      break;
    case 'apply':
    case 'am':
    case 'pull':
    case 'merge':
    case 'rebase':
    case 'cherry-pick':
    case 'revert':
    case 'switch':
      unreadable();
      break;
  }
}

// --- ways past the gate ---------------------------------------------------------------------

const OUR_REFS = /refs\/consortium\/|refs\/notes\/consortium\b/;
/** Files of git and of the toolkit inside .git/: refs, hooks, configuration, approvals. */
const GIT_INTERNALS =
  /(^|\/)\.git\/(refs\/consortium(\/|$)|refs\/notes\/consortium$|packed-refs$|consortium\/|hooks(\/|$)|config$|info\/)/;

export function gateBypasses(command: string): Bypass[] {
  const found: Bypass[] = [];
  scan(command, 0, found);
  return found.filter((b, n) => found.findIndex((x) => x.form === b.form && x.detail === b.detail) === n);
}

function scan(command: string, depth: number, found: Bypass[]) {
  const parsed = parse(command, depth);
  const push = (form: BypassForm, detail: string) => found.push({ form, detail: detail.slice(0, 80) });
  // Claude Code sources CLAUDE_ENV_FILE before each command: a write there sets variables for all.
  if (/CLAUDE_ENV_FILE/.test(command) && />/.test(command)) push('agent-env', 'a write to CLAUDE_ENV_FILE');
  for (const simple of parsed.commands) {
    const inv = invocation(simple.words);
    const assigned = [...inv.assignments];
    if (inv.name?.known && /^(export|declare|typeset|local|readonly|read|unset)$/.test(inv.name.text)) {
      for (const a of inv.args) {
        // A quoted NAME=value is still an assignment to export and declare.
        const name = /^([A-Za-z_][A-Za-z0-9_]*)(=|$)/.exec(a.text)?.[1];
        if (!name) continue;
        if (inv.name.text === 'unset') {
          if (AGENT_VARIABLES.test(name)) push('agent-env', `unset ${name}`);
        } else if (a.text.includes('=')) assigned.push({ ...a, assigns: name });
        else if (name === 'CONSORTIUM_OVERRIDE') push('override-variable', `${inv.name.text} ${name}`);
        else if (AGENT_VARIABLES.test(name) && inv.name.text !== 'read')
          push('agent-env', `${inv.name.text} ${name}`);
      }
    }
    for (const a of assigned) variable(a, push);
    for (const name of inv.unsets)
      if (name === '*' || AGENT_VARIABLES.test(name))
        push('agent-env', name === '*' ? 'env -i' : `env -u ${name}`);
    if (inv.script) {
      if (inv.script.known && depth < MAX_DEPTH) scan(inv.script.text, depth + 1, found);
      continue;
    }
    if (!inv.name?.known) continue;
    if (inv.name.text === 'git') gitBypasses(inv.args, push);
    const approving = inv.args.findIndex((a) => a.text === 'approve');
    if (/(^|\/)git-consortium$|(^|\/)cli\.js$/.test(inv.name.text) && inv.args[0]?.text === 'approve')
      push('approval', 'git consortium approve');
    else if (
      /^node(js)?$/.test(inv.name.text) &&
      approving > 0 &&
      /cli\.js$|git-consortium$/.test(inv.args[approving - 1]!.text)
    )
      push('approval', 'git consortium approve');
  }
  // Whatever writes them: git's own files, hooks and config, and the toolkit's local state.
  for (const write of fileWrites(command, '/').writes)
    if (GIT_INTERNALS.test(write.path))
      push('coordination-refs', `${write.how} ${write.path.replace(/^\//, '')}`);
}

/** The variables that turn the gate off or hide who pushes. */
const AGENT_VARIABLES = /^(CLAUDECODE|AI_AGENT)$/;

function variable(word: Word, push: (form: BypassForm, detail: string) => void) {
  const name = word.assigns!;
  const value = word.text.slice(name.length + 1);
  if (name === 'CONSORTIUM_OVERRIDE') push('override-variable', 'CONSORTIUM_OVERRIDE=...');
  else if (name === 'HUSKY' && value === '0') push('husky-off', 'HUSKY=0');
  else if (name === 'CONSORTIUM' && value === '0') push('consortium-off', 'CONSORTIUM=0');
  else if (name === 'CONSORTIUM_INTERNAL_PUSH') push('consortium-off', `${name}=...`);
  else if (AGENT_VARIABLES.test(name)) push('agent-env', `${name}=${value}`);
  else if (name === 'GIT_CONFIG_PARAMETERS' && /hookspath|alias\./i.test(value))
    push('hooks-path', `${name}=...`);
  else if (/^GIT_CONFIG_KEY_\d+$/.test(name) && /^(core\.hookspath|alias\.)/i.test(value))
    push('hooks-path', `${name}=${value}`);
  else if (/^GIT_CONFIG_(GLOBAL|SYSTEM)$/.test(name) || name === 'GIT_DIR' || name === 'GIT_EXEC_PATH')
    push('hooks-path', `${name}=...`);
}

function gitBypasses(args: Word[], push: (form: BypassForm, detail: string) => void) {
  const { configs, sub, rest } = gitCall(args);
  for (const setting of configs) {
    if (/^core\.hookspath(=|$)/i.test(setting)) push('hooks-path', `git -c ${setting}`);
    // An alias made on the spot can hide any of the forms below.
    else if (/^alias\./i.test(setting)) push('hooks-path', `git -c ${setting.split('=')[0]}=...`);
  }
  if (!sub?.known) return;
  if (sub.text === 'consortium' && rest[0]?.text === 'approve') push('approval', 'git consortium approve');
  const texts = rest.map((w) => w.text);
  switch (sub.text) {
    case 'push':
      pushBypasses(rest, push);
      break;
    case 'config': {
      const key = rest.findIndex((w) => /^core\.hookspath$/i.test(w.text));
      if (key < 0) break;
      const reading = texts.some((t) => /^(--get|--get-all|--get-regexp|--list|-l|get)$/.test(t));
      const unsetting = texts.some((t) => /^(--unset|--unset-all|unset)$/.test(t));
      if (unsetting || (!reading && key + 1 < rest.length))
        push('hooks-path', `git config ${texts.slice(0, key + 2).join(' ')}`);
      break;
    }
    case 'update-ref':
      if (texts.includes('--stdin')) push('coordination-refs', 'git update-ref --stdin');
      else if (texts.some((t) => OUR_REFS.test(t)))
        push('coordination-refs', `git update-ref ${texts.join(' ')}`);
      break;
    case 'notes': {
      const ref = refOption(rest);
      const writing = texts.find((t) => /^(add|append|edit|copy|remove|prune|merge)$/.test(t));
      if (ref !== undefined && /(^|\/)consortium$/.test(ref) && writing)
        push('coordination-refs', `git notes --ref ${ref} ${writing}`);
      break;
    }
  }
}

function refOption(args: Word[]): string | undefined {
  for (let n = 0; n < args.length; n++) {
    const t = args[n]!.text;
    if (t === '--ref') return args[n + 1]?.text;
    if (t.startsWith('--ref=')) return t.slice(6);
  }
  return undefined;
}

function pushBypasses(args: Word[], push: (form: BypassForm, detail: string) => void) {
  let force = false;
  let del = false;
  const refspecs: string[] = [];
  for (let n = 0; n < args.length; n++) {
    const w = args[n]!;
    const t = w.text;
    if (t === '--') {
      refspecs.push(...args.slice(n + 1).map((a) => a.text));
      break;
    }
    // git takes any unambiguous prefix of a long option: --no-verif is --no-verify.
    const long = (name: string, shortest: number) =>
      t.length >= shortest && name.startsWith(t.split('=')[0]!) && t.startsWith('--');
    if (long('--no-verify', 8)) push('no-verify', 'git push --no-verify');
    else if (long('--mirror', 4)) push('coordination-refs', 'git push --mirror');
    else if (long('--force-with-lease', 8) || long('--force-if-includes', 8) || long('--force', 4))
      force = true;
    else if (long('--delete', 4)) del = true;
    else if (t === '-o' || (long('--push-option', 4) && !t.includes('=')))
      option(args[++n]?.text ?? '', push);
    else if (long('--push-option', 4)) option(t.slice(t.indexOf('=') + 1), push);
    else if (/^-[a-zA-Z]+/.test(t) && !t.startsWith('--')) {
      const letters = t.slice(1);
      const o = letters.indexOf('o');
      const flags = o >= 0 ? letters.slice(0, o) : letters;
      if (flags.includes('f')) force = true;
      if (flags.includes('d')) del = true;
      if (o >= 0) option(letters.slice(o + 1) || (args[++n]?.text ?? ''), push);
    } else if (!t.startsWith('-')) refspecs.push(t);
  }
  for (const spec of refspecs.slice(1)) {
    if (!OUR_REFS.test(spec)) continue;
    const how = spec.startsWith(':') || del ? 'deletes' : spec.startsWith('+') || force ? 'forces' : 'pushes';
    push('coordination-refs', `git push ${how} ${spec.replace(/^\+/, '')}`);
  }
}

function option(value: string, push: (form: BypassForm, detail: string) => void) {
  if (/^consortium\./i.test(value)) push('push-option', `git push -o ${value.split('=')[0]}=...`);
}
