/**
 * Edit distance with adjacent transpositions (optimal string alignment, the restricted
 * Damerau-Levenshtein): `memebrs` is one slip away from `members`, not two, which is how
 * fingers actually miss.
 */
export function editDistance(a: string, b: string): number {
  // Three rolling rows: a transposition looks two rows back.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, before[j - 2]! + 1);
      current.push(best);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * How far a typo may be from what was meant and still be suggested: one slip in a short
 * word, two in a longer one. More than that and the "suggestion" is a guess that sends
 * the person somewhere they did not mean to go.
 */
export function typoBudget(word: string): number {
  return Math.min(2, Math.max(1, Math.floor(word.length / 3)));
}

/** The candidate closest to `typed` within `typoBudget`, the first of equals; undefined when none is close. */
export function nearest(typed: string, candidates: Iterable<string>): string | undefined {
  return nearestBy(candidates, () => typed);
}

/**
 * Like `nearest`, when what was typed depends on the candidate: a two-word command is
 * compared with the first two words typed, a one-word command with the first.
 */
export function nearestBy(candidates: Iterable<string>, typedFor: (candidate: string) => string | undefined): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const typed = typedFor(candidate);
    if (typed === undefined) continue;
    const distance = editDistance(typed, candidate);
    if (distance <= typoBudget(candidate) && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
