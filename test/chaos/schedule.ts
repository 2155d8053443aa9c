import { shuffled } from '../broker/store/scanEvents.js';

/**
 * Picks from `weighted` (a value listed twice comes twice as often), but first every distinct
 * value once, in a seeded shuffle: a run, however short or unlucky, meets each kind, and a
 * check that needs one of them cannot pass for want of it.
 */
export function eachOnceThenRandom<T>(weighted: readonly T[], random: (max: number) => number): () => T {
  const first = shuffled([...new Set(weighted)], random);
  return () => first.shift() ?? weighted[random(weighted.length)]!;
}
