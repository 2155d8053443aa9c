import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The highest nice value Linux allows: the lowest CPU priority. */
const LOWEST = 19;

/**
 * Lowers the CPU priority of the calling thread by `steps` nice levels, from whatever it
 * inherited (a terminal started under `nice` keeps its offset). On Linux each thread has its
 * own nice value: `setpriority` on a thread id changes that thread only, and an unprivileged
 * process may always lower its own priority. Returns the thread's new nice value, or null
 * where there is no thread id to name (not Linux) or the system refuses.
 */
export function lowerThisThreadPriority(steps: number): number | null {
  let threadId: number;
  try {
    // "/proc/thread-self" links to "<pid>/task/<tid>".
    threadId = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
  } catch {
    return null;
  }
  if (!Number.isInteger(threadId) || threadId <= 0) return null;
  try {
    const nice = Math.min(LOWEST, getPriority(threadId) + steps);
    setPriority(threadId, nice);
    return getPriority(threadId);
  } catch {
    return null;
  }
}
