import type { Chapter } from './story.js';

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
];
