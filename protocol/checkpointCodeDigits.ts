/**
 * The digits of a checkpoint code, with no dependency at all, so the console's pages check a
 * typed code in the browser with the very function the central and the CLI use
 * (checkpointCode.ts holds the why of Damm).
 */

export const checkpointCodeLength = 14;

/** The weakly totally anti-symmetric quasigroup of order 10 from Damm's 2004 thesis (as on Wikipedia). */
const dammTable: readonly (readonly number[])[] = [
  [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
  [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
  [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
  [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
  [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
  [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
  [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
  [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
  [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
  [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

export type CheckpointCodeProblem = 'length' | 'non-digit' | 'check-digit';

/**
 * The Damm interim digit of `digits`: the check digit to append to a code body, and 0 for
 * a complete, valid code.
 */
export function dammCheckDigit(digits: string): number {
  let interim = 0;
  for (let i = 0; i < digits.length; i++) {
    const digit = digits.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) throw new RangeError(`dammCheckDigit: "${digits[i]}" is not a decimal digit`);
    interim = dammTable[interim]![digit]!;
  }
  return interim;
}

/** What is wrong with a typed code (already trimmed), or null when it is a valid code. */
export function checkpointCodeProblem(code: string): CheckpointCodeProblem | null {
  if (/\D/.test(code)) return 'non-digit';
  if (code.length !== checkpointCodeLength) return 'length';
  return dammCheckDigit(code) === 0 ? null : 'check-digit';
}
