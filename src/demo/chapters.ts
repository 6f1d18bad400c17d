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
];
