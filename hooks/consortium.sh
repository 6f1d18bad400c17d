# git-consortium: the part every hook body shares (sourced, not run). Installed by
# `git consortium init` into <git common dir>/consortium/hooks/, next to the bodies; husky's
# runner starts a body with `sh -e`, in the top of the worktree, after honouring HUSKY=0.
#
# Hooks must never break git: CONSORTIUM=0 turns ours off, a missing toolkit costs one line,
# and nothing is ever downloaded (no npx: that turns every checkout into seconds, or a hang).

consortium_dir=${0%/*}
consortium_common=${consortium_dir%/consortium/hooks}

# The hooks the repository had before init keep running, with the same arguments and stdin:
# <git common dir>/hooks/<name> (Git LFS puts its own there), a core.hooksPath of another
# tool that init found, and the worktree's .husky/<name> (run with `sh -e`, as husky does).
consortium_chain() {
  _name=$1
  shift
  _status=0
  _husky=.husky
  _hooks=$consortium_common/hooks
  if [ -x "$_hooks/$_name" ]; then "$_hooks/$_name" "$@" || _status=$?; fi
  if [ -f "$consortium_dir/previous-hooks-path" ]; then
    read -r _previous <"$consortium_dir/previous-hooks-path" || :
    case $_previous in
      */_) _husky=${_previous%/_} ;;
      ?*) if [ -x "$_previous/$_name" ]; then "$_previous/$_name" "$@" || _status=$?; fi ;;
    esac
  fi
  if [ -f "$_husky/$_name" ]; then sh -e "$_husky/$_name" "$@" || _status=$?; fi
  return $_status
}

# Whether the hook runs under an AI agent (Claude Code sets these for the commands it runs).
consortium_agent() {
  [ -n "${CLAUDECODE-}${AI_AGENT-}" ]
}

# Runs `git-consortium hook <name> ...`: on PATH (husky's runner puts the worktree's
# node_modules/.bin there), else from the main worktree's node_modules/.bin, which a linked
# worktree may lack. Returns the toolkit's exit status; 0 when it is off; 127 when it is
# missing. An agent cannot turn the push gate off with CONSORTIUM=0.
consortium_run() {
  if [ "${CONSORTIUM-}" = 0 ] && ! { [ "$1" = pre-push ] && consortium_agent; }; then return 0; fi
  if command -v git-consortium >/dev/null 2>&1; then
    _toolkit=git-consortium
  elif [ -x "$consortium_common/../node_modules/.bin/git-consortium" ]; then
    _toolkit=$consortium_common/../node_modules/.bin/git-consortium
  else
    if consortium_agent; then
      echo "git-consortium is not installed here: the $1 hook did nothing." >&2
    else
      echo "git-consortium is not installed here: the $1 hook did nothing (npm install git-consortium, or CONSORTIUM=0 to silence this)." >&2
    fi
    return 127
  fi
  if ! command -v node >/dev/null 2>&1; then
    echo "git-consortium: node is not on PATH: the $1 hook did nothing." >&2
    return 127
  fi
  # Node 20 reads NODE_EXTRA_CA_CERTS as it starts (50 ms for Debian's 144 certificates on a
  # 2-core machine, and a warning on every hook once the file has gone), and no hook of ours
  # opens a TLS connection: git does the network. So the toolkit starts without it, and gives
  # it back to what it starts itself (src/cli.cts).
  if [ -n "${NODE_EXTRA_CA_CERTS-}" ]; then
    CONSORTIUM_NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS NODE_EXTRA_CA_CERTS='' "$_toolkit" hook "$@"
  else
    "$_toolkit" hook "$@"
  fi
}
