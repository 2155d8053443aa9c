/**
 * The deadline every `expect.poll` in the suite waits with. Vitest's default (1 s) is a
 * speed claim that a loaded 2-core machine breaks now and then; a poll checks that a
 * condition comes true, how fast belongs in a bench. pollDeadline.test.ts holds every poll to
 * an explicit timeout.
 */
export const pollDeadline = { timeout: 10_000, interval: 50 } as const;
