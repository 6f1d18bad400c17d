/**
 * The help of every command, written once: `git consortium help`, every `--help`, and the man
 * page (scripts/postbuild.mjs) are all made from this table. Data only, so that printing help
 * loads no command.
 */
export interface CommandHelp {
  name: string;
  usage: string[];
  summary: string;
  details: string;
  hidden?: boolean;
}

export const COMMON = `Common options, where a command shows them: --json prints one JSON document on stdout;
-r, --researcher ID says who you are; --session ID names the session to act on. Exit codes: 0 success, 1 refused by the coordination
state, 2 bad usage or input, 3 environment problem (not a repository, git too old, remote unreachable).`;

export const COMMANDS: CommandHelp[] = [
  {
    name: 'init',
    usage: ['init [--claude] [--github] [--force] [--json]'],
    summary: 'set up this repository: configuration, git hooks, notes settings',
    details: `Writes consortium.config.yaml (from the workspace folders it finds, keeping an existing
configuration), installs the git hooks with husky in <git dir>/consortium/hooks (active in every
worktree of the repository; hooks it already had in .git/hooks or .husky/ keep running), sets
notes.rewriteRef so notes follow rebases and amends, and removes the old scripts' .claude-session-*
lock files and refs/claude/session-* refs. --claude adds the Claude Code files, --github the
GitHub Actions workflow; --force replaces files of the same name and reinstalls the hooks.
Running it twice changes nothing the second time. The hooks are off with CONSORTIUM=0 or HUSKY=0.`,
  },
  {
    name: 'orient',
    usage: ['orient [-r ID] [--json]'],
    summary: 'who I am, my gates, sessions, latest handoff and alerts',
    details: `Prints the researcher you are (and how that was decided), name, role, workspace, an excerpt
of your context file, the gates you own (with status and whether they are ready), the gates you
wait on and those waiting on you, your active sessions and everyone else's, your latest handoff,
and alerts: conflicts involving you, and what changed since your last look here (gates unlocked
or reopened by others, protocol files changed by others). Always exits 0.`,
  },
  {
    name: 'start',
    usage: [
      'start [-r ID] [--intent TEXT] [--branch NAME | --no-branch] [--worktree [PATH]] [--shared] [--json]',
      'start --agent claude-code --agent-session ID [options]',
    ],
    summary: 'register a session and create its branch',
    details: `Registers a session for you, creates and checks out its branch
<prefix><researcher>-<yyyymmdd-hhmmss> (UTC) unless --branch names one or --no-branch keeps the
current branch, and shares it with the remote when the remote answers within a few seconds.
Refuses (exit 1) when another active session already works on this worktree and branch, unless
--shared. --worktree [PATH] starts the session in a new linked worktree.`,
  },
  {
    name: 'status',
    usage: ['status [-r ID] [--json] [--all] [--fetch]'],
    summary: "every researcher's active sessions, leases and conflicts",
    details: `Lists the active sessions of every researcher (all states with --all), the leases held and
the conflicts between live sessions: lease, protocol, worktree, and merge (the committed work
of two sessions that changed the same files, merged speculatively without touching any
worktree: their pushed branches, or the heads their records hold, and your own branches).
Reads local state only, unless --fetch first brings the remote's coordination state and the
live sessions' pushed branches. Always exits 0.`,
  },
  {
    name: 'heartbeat',
    usage: ['heartbeat [--session ID]'],
    summary: 'refresh the current session (hooks call it)',
    details: `Refreshes the current session's heartbeat and changed files. Writes at most once per quarter
of sessions.staleAfter unless something changed.`,
  },
  {
    name: 'end',
    usage: ['end [--session ID] [--json]'],
    summary: 'end the current session and release its leases',
    details: 'Ends the current session (or the one named) and releases its leases.',
  },
  {
    name: 'compact',
    usage: ['compact [--summary-file F | -] [--next TEXT]... [--session ID] [--json]'],
    summary: 'write the handoff, then end the session',
    details: `Writes the handoff of the current session (as handoff does), then ends it: what an agent's
compaction or the end of a day calls. The next start and orient show that handoff.`,
  },
  {
    name: 'handoff',
    usage: [
      'handoff [--summary-file F | -] [--next TEXT]... [--session ID] [--json]',
      'handoff show [--researcher ID] [--json]   (also: handoff --show)',
    ],
    summary: 'write or show the structured handoff of a session',
    details: `Writes a Markdown handoff for the current session: what changed since it started, protocol
impact, gates, open conflicts and leases, the summary given and next steps. The summary comes
from --summary-file F, or from stdin with - ; a "Next steps" section in it, and each --next,
become the Next steps. It is stored with the session and as a note on its head commit.
Without a summary of its own, a handoff keeps the summary and next steps of the session's last
one, and says so. handoff show prints the latest handoff of a researcher (you, or --researcher ID).`,
  },
  {
    name: 'sync',
    usage: ['sync [-r ID] [--remote R] [--rebase] [--json]'],
    summary: 'exchange coordination state with the remote and report what changed',
    details: `Fetches and pushes the coordination refs and notes, merges notes written on other machines,
fetches the default branch and reports what changed for you since the last sync: sessions
started and ended elsewhere, sessions merged, protocol files changed upstream, gate changes.
Marks sessions whose work the default branch contains as merged. An older copy of a session
record never overwrites a newer one. --rebase also rebases your session branch on the default
branch, leaving everything as it was if that conflicts (exit 1). Exits 3, changing nothing,
when the remote cannot be reached.`,
  },
  {
    name: 'lease',
    usage: [
      'lease acquire PATH... [--ttl D] [--reason TEXT] [--force --reason TEXT] [--session ID] [--json]',
      'lease release PATH... | --all [--session ID] [--json]',
      'lease list [--json]',
    ],
    summary: 'exclusive advisory leases on files and patterns',
    details: `A lease is held by a session on a path or a pattern (minimatch, from the top of the
repository; a folder means everything below it), renewed by the session's heartbeats, and
expires after --ttl (default sessions.leaseTtl); ending the session releases it. Overlapping
leases of two sessions are never both granted, even from two machines at once: the remote
decides. A refusal (exit 1) says who holds it, since when and until when. --force breaks
another session's lease; it needs --reason, and who, when and why are recorded. Acquiring and
releasing need the remote (exit 3 when it cannot be reached). list shows the leases known here
(after the last sync).`,
  },
  {
    name: 'approve',
    usage: ['approve --reason TEXT [--session ID] [--ttl DURATION] [-r ID] [--json]'],
    summary: "let your agent's next blocked push through (a person's decision)",
    details: `Under policy.agentOverride ask, an agent's push that the gate blocks goes through only with a
person's approval. Run this in your own terminal, after looking at what blocks the push (git
consortium check): it lets the next blocked push of the session (the current one, or --session)
go past the gate once, within --ttl (default 30m), and the override that push makes records you
as its approver, with your reason, for everyone (git consortium audit). It asks you to type yes,
and it refuses to run under an agent or without a terminal. Under policy.agentOverride block an
agent never pushes past the gate: push it yourself; under allow agents need no approval.`,
  },
  {
    name: 'check',
    usage: ['check [-r ID] [--json] [--no-fetch] [REVISION-RANGE]'],
    summary: 'the conflicts a push would meet, without pushing',
    details: `Runs the pre-push analysis on the commits of REVISION-RANGE (default: what the current
branch would push) against the other live sessions: leases, protocol files, predicted merges and
other researchers' workspaces, each with what policy does with it (block or warn). Like the gate
it first brings the coordination state from the remote, bounded in time; --no-fetch uses what is
known here. Exits 1 when there are conflicts.`,
  },
  {
    name: 'gates',
    usage: [
      'gates [list] [--json | --mermaid]',
      'gates unlock G [--note TEXT] [--force] [-r ID]',
      'gates reopen G [--note TEXT] [--force] [-r ID]',
    ],
    summary: 'the gate-and-key framework: status, unlock, reopen',
    details: `Lists every gate with its owner, requirements and status. Only the owner unlocks a gate, and
only once every required gate is unlocked; reopening likewise needs the owner. --force overrides
and is recorded with the rule it broke. Every change is kept (action, by, at, note, forced) and
shared through sync; when machines disagree, the later change wins (ties by event id).
--mermaid prints the dependency graph as a Mermaid flowchart for a pull request.`,
  },
  {
    name: 'recover',
    usage: ['recover [-r ID] [--dry-run] [--older-than D] [--prune D] [--json]'],
    summary: 'end stale and orphaned sessions, clear leftover locks',
    details: `Ends sessions with no heartbeat for D (default sessions.staleAfter) and sessions of this
machine whose worktree or branch is gone, releases their leases, removes lock files that killed
processes left under the toolkit's refs and the old .claude-session-* files, and reports each
thing it did. --prune D also deletes ended and merged sessions finished more than D ago, here
and on the remote. --dry-run reports and changes nothing.`,
  },
  {
    name: 'audit',
    usage: ['audit [--since D] [--format markdown|json] [--json]'],
    summary: 'the audit trail: sessions, overrides, forced leases, gate changes, handoffs',
    details: `Prints every session change (heartbeats aside), push override, forced lease, gate change,
handoff and folded checkpoint of the period (--since D: the last D; default all history), read
from the records' own history, each with the commit id a reviewer can verify with git show.`,
  },
  {
    name: 'uninstall',
    usage: ['uninstall [--json]'],
    summary: "remove the toolkit's hooks and settings",
    details: `Restores what init changed in the hooks setup (core.hooksPath, notes settings) as it was
before the first init, and removes the hook bodies. The coordination refs and notes are left alone.`,
  },
  {
    name: 'checkpoint',
    usage: ['checkpoint [--message TEXT] [-r ID] [--session ID] [--json]'],
    summary: 'emergency checkpoint that works even when git does not',
    details: `Writes .claude/emergency-sessions/session-<timestamp>.md with everything known (researcher,
last known session from CONSORTIUM_SESSION, branch, the message), without needing git: it works
with a broken repository or no git at all. The next start or sync folds pending checkpoints into
the session record, says so once, and moves them to folded/.`,
  },
  {
    name: 'doctor',
    usage: ['doctor [--json]'],
    summary: 'check git, hooks, configuration, remote and Claude Code files',
    details:
      'Checks the git version, the configuration, hooks installed and active in every worktree of the repository, repository hooks added since init, the toolkit reachable by the hooks, notes settings, the remote, the Claude Code files and leftovers of the old scripts. Exits 3 when a check fails.',
  },
  {
    name: 'demo',
    usage: ['demo [--dir D]'],
    summary: 'build a sandbox consortium and play a short story in it',
    details: `Builds a bare remote and three researchers' clones of a small sample consortium in a
temporary folder (or D), plays a scripted story and prints every step. The sandbox is left for
you to explore.`,
  },
  {
    name: 'hook',
    usage: ['hook <name> [args...]'],
    summary: 'entry point of the installed git hooks',
    details:
      'Called by the git hooks that init installs (post-checkout, post-commit, pre-push, post-merge); not meant to be run by hand.',
  },
  {
    name: 'claude-hook',
    usage: ['claude-hook SessionStart|PreToolUse|PostToolUse|PreCompact|SessionEnd'],
    summary: 'entry point of the Claude Code hooks (event JSON on stdin)',
    details: `Called by the Claude Code hooks that init --claude installs, with Claude Code's event JSON on
stdin; answers in Claude Code's hook output format on stdout. SessionStart registers or resumes the
conversation's session and returns the orientation and latest handoff; PreToolUse denies an edit of a
file another session leases; PostToolUse records the file touched; PreCompact writes a handoff;
SessionEnd ends the session. Never exits 2 (which would block the agent): a problem, malformed event
JSON included, is a message on stderr and exit 1. CONSORTIUM=0 turns it off.`,
  },
  {
    name: 'mcp',
    usage: ['mcp health [--json]', 'mcp sync [--json]', 'mcp serve'],
    summary: 'MCP health check, MCP-resilient sync, and the MCP server',
    details: `health: a real MCP handshake (initialize, initialized, ping) with every server of .mcp.json
(stdio and HTTP) within mcp.timeout; a server that does not answer in time is stopped. Prints
each server's name, version, protocol and latency, and the mode: mcp (all healthy), hybrid
(some), git (none, or none configured). Exits 0 when no server failed, 1 otherwise.
sync: health, then git sync whatever the health; if git cannot be used either, an emergency
checkpoint. Prints the mode and what it did; exits 0 when the sync or the checkpoint saved
the state, 3 when neither could.
serve: an MCP server over stdio for agents, with the tools status, orient, may_edit,
lease_acquire, lease_release, handoff, sync and gates. Add it to .mcp.json as
{"command": "git", "args": ["consortium", "mcp", "serve"]}.`,
  },
  {
    name: 'ci',
    usage: [
      'ci report [--base REF] [--head REF] [--format markdown|json | --json] [--output F] [--no-fetch]',
      'ci post [--report F] [--json]',
    ],
    summary: 'the coordination report of a branch or pull request, for GitHub Actions',
    details: `report: for the pushed branch or pull request (GITHUB_HEAD_REF, GITHUB_REF, else --head or the
branch checked out), compared with --base (default: the pull request's base, else the default
branch): its researcher and session, the protocol files it changes and who they affect, its
conflicts with the other live sessions (the pre-push gate's analysis, after fetching the
coordination state unless --no-fetch), the gate graph as Mermaid, and a level: the highest
severity found, or none. With GITHUB_STEP_SUMMARY set it appends the report there, with
GITHUB_OUTPUT it sets the step output level, and inside GitHub Actions it prints
::warning file=...:: annotations for the conflicted files (on stderr).
post: posts the report (F: written by ci report --format json --output F; else computed now)
through the GitHub REST API (GITHUB_TOKEN, GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_EVENT_PATH):
one comment per pull request, kept up to date; on level high one open issue labelled
session-coordination for the branch, closed when the level drops. A token that cannot write
(a pull request from a fork) leaves a note in the job summary instead of failing.`,
  },
  {
    name: 'help',
    usage: ['help [command]'],
    summary: 'show help for git consortium or one command',
    details: 'git consortium --help opens the man page; git consortium help works without it.',
  },
  {
    name: 'share',
    usage: ['share REF...'],
    summary: 'push coordination refs to the remote (used in the background)',
    details: 'Internal: pushes the named coordination refs, bounded in time.',
    hidden: true,
  },
];

export function findHelp(name: string): CommandHelp | undefined {
  return COMMANDS.find((c) => c.name === name);
}

export function generalHelp(): string {
  const visible = COMMANDS.filter((c) => !c.hidden);
  const width = Math.max(...visible.map((c) => c.name.length));
  return [
    'git consortium: coordinate researchers and AI coding-agent sessions on one git repository.',
    '',
    'usage: git consortium <command> [options]',
    '',
    'Commands:',
    ...visible.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    COMMON,
    '',
    "Run 'git consortium help <command>' for a command's options.",
  ].join('\n');
}

export function commandHelp(help: CommandHelp): string {
  return [
    `usage: ${help.usage.map((u, i) => (i ? `       git consortium ${u}` : `git consortium ${u}`)).join('\n')}`,
    '',
    help.summary,
    '',
    help.details,
    '',
    COMMON,
  ].join('\n');
}
