import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Chapter } from './story.js';
import type { Machine } from './world.js';

/** The chapters, in order. Each feature adds the chapter that shows it. */
export const CHAPTERS: Chapter[] = [
  {
    title: 'Three researchers start sessions on three machines',
    play({ elena, yuki, aria }, tell) {
      tell.say(
        'Each researcher works in a clone of their own. Starting a session creates its branch and registers it.',
      );
      tell.run(elena, ['start', '-r', 'elena-vasquez', '--intent', 'statistical validation of the protocol']);
      tell.run(yuki, ['start', '-r', 'yuki-tanaka', '--intent', 'latency benchmarks']);
      tell.run(aria, ['start', '-r', 'aria-blackwood', '--intent', 'red-team the descriptors']);
      tell.say("Each machine sees its own session; `status --fetch` brings everyone else's from the remote.");
      tell.run(elena, ['status', '--fetch']);
    },
  },
  {
    title: 'A gate unlocked on one machine, seen on another; a handoff',
    play({ elena, yuki }, tell) {
      tell.say('Gates belong to one researcher and may require others. G2 (Yuki) requires G1 (Elena):');
      tell.run(yuki, ['gates', 'unlock', 'G2', '-r', 'yuki-tanaka'], { expect: 1 });
      tell.run(elena, ['gates', 'unlock', 'G1', '-r', 'elena-vasquez', '--note', 'significance reached']);
      tell.say("Yuki's machine learns of it with sync; now G2 can be unlocked there.");
      tell.run(yuki, ['sync']);
      tell.run(yuki, ['gates', 'unlock', 'G2', '-r', 'yuki-tanaka']);
      tell.run(yuki, ['gates', '--mermaid']);
      tell.say(
        "Before Elena's agent compacts its context, it writes a handoff: git's facts plus its own summary.",
      );
      elena.write(
        '../elena-summary.md',
        'Validated the statistics; G1 is unlocked.\n\nNext steps:\n- rerun with the new latency data\n',
      );
      tell.run(elena, ['handoff', '--summary-file', '../elena-summary.md']);
      tell.say('It is stored with the session and as a note on its head commit; her next start shows it.');
    },
  },
  {
    title: 'A lease taken on one machine is refused on another',
    play({ elena, yuki }, tell) {
      tell.say(
        'Elena leases the whole protocol folder while she rewrites it. The remote decides who holds what.',
      );
      tell.run(elena, [
        'lease',
        'acquire',
        'protocol/**',
        '--ttl',
        '4h',
        '--reason',
        'rewriting the descriptors',
      ]);
      tell.say(
        "Yuki's agent wants protocol/spec.md, which overlaps: refused, with who holds it and until when.",
      );
      tell.run(yuki, ['lease', 'acquire', 'protocol/spec.md'], { expect: 1 });
      tell.run(yuki, ['lease', 'list']);
      tell.say('Once Elena releases it (or ends her session), the file is free for Yuki.');
      tell.run(elena, ['lease', 'release', 'protocol/**']);
      tell.run(yuki, ['lease', 'acquire', 'protocol/spec.md', '--ttl', '30m']);
    },
  },
  {
    title: 'A conflict predicted before anyone merges',
    play({ elena, yuki }, tell) {
      tell.say(
        'Elena and Yuki both change line 5 of src/shared.py on their own session branches. Elena pushes hers;',
      );
      tell.say(
        "Yuki only commits. Nobody has merged anything; the hooks shared both sessions' changed files.",
      );
      changeLine(elena, 'src/shared.py', 5, 'THRESHOLD = 0.01  # Elena: stricter significance');
      tell.run(elena, ['commit', '-q', '-m', 'Stricter significance threshold', '--', 'src/shared.py'], {
        git: true,
      });
      tell.run(elena, ['push', '-q', '-u', 'origin', 'HEAD'], { git: true });
      changeLine(yuki, 'src/shared.py', 5, 'THRESHOLD = 0.1  # Yuki: fewer samples, faster');
      tell.say(
        'Before Yuki even commits, check --lines shows the lines she changed next to the lines a live session',
      );
      tell.say(
        "changed near them (an agent of hers would have been told so before its edit landed, by Claude Code's hook):",
      );
      tell.run(yuki, ['check', '--lines'], { expect: 1 });
      tell.run(yuki, ['commit', '-q', '-m', 'Looser threshold for the latency runs', '--', 'src/shared.py'], {
        git: true,
      });
      tell.say(
        "Yuki's status merges her committed work with every live session that changed the same files, in memory",
      );
      tell.say('(git merge-tree, no worktree touched), and names the file, both sessions and what to do:');
      tell.run(yuki, ['status', '--fetch']);
      tell.say('check runs the pre-push analysis without pushing (exit 1: there is a conflict).');
      tell.say(
        'With policy.merge: warn (the default) her push would go through with this warning; block stops it.',
      );
      tell.run(yuki, ['check'], { expect: 1 });
    },
  },
  {
    title: 'A push blocked by live work on a protocol file; an override everyone sees',
    play({ elena, yuki, aria }, tell) {
      const spec = (line: number, text: string) =>
        `# Protocol\n\n${Array.from({ length: 10 }, (_, i) => (i + 3 === line ? text : `line ${i + 3}`)).join('\n')}\n`;
      tell.say(
        'Yuki changes the protocol file she leased and pushes her session branch: nothing in the way.',
      );
      yuki.commit('Protocol: latency budget per call', {
        'protocol/spec.md': spec(12, 'latency budget: 5 ms'),
      });
      tell.run(yuki, ['push', '-q', '-u', 'origin', 'HEAD'], { git: true });
      tell.say(
        "Elena changes the same file on other lines. She has not run sync: the gate fetches Yuki's session itself.",
      );
      elena.commit('Protocol: significance threshold', { 'protocol/spec.md': spec(3, 'alpha = 0.01') });
      tell.run(elena, ['push', '-q', '-u', 'origin', 'HEAD'], { git: true, expect: 1 });
      tell.say(
        'They agree on a call that both changes stand. Elena pushes with the reason, recorded as a note.',
      );
      tell.run(elena, ['push', '-q', '-u', 'origin', 'HEAD'], {
        git: true,
        env: { CONSORTIUM_OVERRIDE: 'agreed with Yuki on the call: both changes stand' },
      });
      tell.say('Aria, on the third machine, sees the override after sync, with git log itself:');
      tell.run(aria, ['sync']);
      const branch = elena.git(['branch', '--show-current']).stdout.trim();
      tell.run(aria, ['fetch', '-q', 'origin', branch], { git: true });
      tell.run(aria, ['log', '--notes=consortium', '-1', '--format=%h %s%n%N', 'FETCH_HEAD'], { git: true });
    },
  },
];

/** Replaces one line (1-based) of a file in a machine's worktree, as an editor would. */
function changeLine(machine: Machine, file: string, line: number, text: string): void {
  const lines = readFileSync(path.join(machine.dir, file), 'utf8').split('\n');
  lines[line - 1] = text;
  machine.write(file, lines.join('\n'));
}
