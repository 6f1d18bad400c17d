import type { CommandSpec } from '../core/command.js';
import { ConsortiumError, usageError } from '../core/errors.js';
import { print } from '../core/output.js';
import { writeTo } from '../core/stdio.js';

/** What `completion` is and takes: help, every --help, the man page and its argument parsing read this. */
export const command = {
  name: 'completion',
  usage: ['completion bash|zsh'],
  summary: 'shell completion for bash and zsh',
  details: `Prints the completion script of a shell: commands, options, researchers, gates and
session ids, read from the repository you are in when you press TAB. With bash it also
completes git consortium <TAB>, through git's own completion. To use it, add to ~/.bashrc:
eval "$(git consortium completion bash)" (or save it as
~/.local/share/bash-completion/completions/git-consortium); for zsh, add to ~/.zshrc:
eval "$(git consortium completion zsh)".`,
  examples: [
    { run: 'completion bash', says: 'the bash script, for ~/.bashrc or the completions folder' },
    { run: 'completion zsh', says: 'the zsh script, for ~/.zshrc' },
  ],
  options: {},
} as const satisfies CommandSpec;

/**
 * Both scripts hand the words typed so far to `git consortium completion complete -- WORDS`,
 * which answers one candidate per line, so the knowledge of commands, options and the
 * repository's researchers, gates and sessions lives here, once.
 */
const BASH = `# git consortium completion for bash: eval "$(git consortium completion bash)"
_git_consortium_candidates() {
  local i start=0
  for ((i = 0; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in consortium|git-consortium|*/git-consortium) start=$((i + 1)); break ;; esac
  done
  git consortium completion complete -- "\${COMP_WORDS[@]:start:COMP_CWORD-start+1}" 2>/dev/null
}
_git_consortium() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" answer
  answer="$(_git_consortium_candidates)"
  if [ "$answer" = ":files" ]; then
    compopt -o default 2>/dev/null
    COMPREPLY=()
    return
  fi
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "$answer" -- "$cur"))
}
complete -F _git_consortium git-consortium
`;

const ZSH = `#compdef git-consortium
# git consortium completion for zsh: eval "$(git consortium completion zsh)"
_git-consortium() {
  local -a words_after candidates
  local i start=1
  for ((i = 1; i < CURRENT; i++)); do
    case "\${words[i]}" in consortium|git-consortium|*/git-consortium) start=$((i + 1)); break ;; esac
  done
  words_after=("\${(@)words[start,CURRENT]}")
  candidates=("\${(@f)$(git consortium completion complete -- "\${words_after[@]}" 2>/dev/null)}")
  if [[ "\${candidates[1]}" == ":files" ]]; then
    _files
  else
    compadd -a candidates
  fi
}
compdef _git-consortium git-consortium
`;

/** Verbs of the commands that take one, and what their operands are. */
const VERBS: Record<string, string[]> = {
  lease: ['acquire', 'release', 'list'],
  gates: ['list', 'unlock', 'reopen'],
  handoff: ['show'],
  ci: ['report', 'post'],
  mcp: ['health', 'sync', 'serve'],
  completion: ['bash', 'zsh'],
};

export async function run(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === 'bash' || verb === 'zsh') {
    writeTo(1, verb === 'bash' ? BASH : ZSH);
    return 0;
  }
  if (verb === 'complete') {
    for (const candidate of await candidates(rest[0] === '--' ? rest.slice(1) : rest)) print(candidate);
    return 0;
  }
  throw usageError(
    `git consortium completion takes bash or zsh${verb === undefined ? '' : `, not ${JSON.stringify(verb)}`}.`,
  );
}

/**
 * What may come next after `words` (the words after `consortium`, the last one being the one
 * under the cursor, maybe empty): commands, a command's verbs and options, or the values an
 * option takes. ":files" asks the shell to complete file names.
 */
async function candidates(words: string[]): Promise<string[]> {
  const { COMMANDS } = await import('./registry.js');
  const current = words.at(-1) ?? '';
  if (words.length <= 1) {
    const all = await Promise.all(Object.values(COMMANDS).map(async (load) => (await load()).command));
    return all.filter((c) => !c.hidden && c.name !== 'hook' && c.name !== 'claude-hook').map((c) => c.name);
  }
  const name = words[0]!;
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) return [];
  const spec = (await load()).command;
  const previous = words.at(-2) ?? '';
  if (previous === '--researcher' || previous === '-r') return researchers();
  if (previous === '--session') return sessions();
  if (previous.startsWith('--') && spec.options[previous.slice(2)]?.type === 'string') return [':files'];
  if (current.startsWith('-')) return Object.keys(spec.options).map((o) => `--${o}`);
  const operands = words.slice(1, -1).filter((w) => !w.startsWith('-'));
  const verbs = VERBS[name];
  if (verbs && operands.length === 0) return verbs;
  if (name === 'help') return operands.length ? [] : Object.keys(COMMANDS);
  if (name === 'gates' && (operands[0] === 'unlock' || operands[0] === 'reopen')) return gates();
  if (name === 'status' || name === 'orient') return researchers();
  if (name === 'lease' && (operands[0] === 'acquire' || operands[0] === 'release')) return [':files'];
  return [];
}

/** The repository's context, if the words were typed inside one (completion never fails loudly). */
async function context() {
  try {
    const { openContext } = await import('../context/context.js');
    return await openContext();
  } catch (error) {
    if (error instanceof ConsortiumError) return undefined;
    throw error;
  }
}

async function researchers(): Promise<string[]> {
  const ctx = await context();
  return ctx ? [...ctx.researchers.keys()] : [];
}

async function gates(): Promise<string[]> {
  const ctx = await context();
  return ctx ? [...ctx.config.gates.keys()] : [];
}

/** The sessions that are still open, by the short id text shows. */
async function sessions(): Promise<string[]> {
  const ctx = await context();
  if (!ctx) return [];
  return ctx
    .sessions()
    .sessions.filter((s) => s.state === 'active')
    .map((s) => ctx.shortId(s.id));
}
