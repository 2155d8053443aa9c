import { randomInt } from 'node:crypto';
import { z } from 'zod';

/**
 * Checkpoint codes (DESIGN.md "Checkpoint code"): 14 decimal digits, the last one a Damm
 * check digit. Technicians type these codes, so the check digit must catch the two mistakes
 * people actually make: one wrong digit and two neighbours swapped. Damm catches both,
 * always, with a single decimal digit (Luhn misses 09 <-> 90; Verhoeff needs three tables).
 * https://en.wikipedia.org/wiki/Damm_algorithm
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

export class CheckpointCodeError extends Error {
  constructor(
    readonly code: CheckpointCodeProblem,
    message: string,
  ) {
    super(message);
    this.name = 'CheckpointCodeError';
  }
}

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

/** Checkpoint codes are not secret; the cap only keeps a pasted paragraph out of the message. */
function quote(input: string): string {
  return JSON.stringify(input.length > 24 ? `${input.slice(0, 20)}…` : input);
}

/** Returns the code without surrounding whitespace, or throws a CheckpointCodeError a technician can act on. */
export function parseCheckpointCode(input: string): string {
  const code = input.trim();
  const nonDigit = code.search(/\D/);
  if (nonDigit >= 0) {
    throw new CheckpointCodeError(
      'non-digit',
      `checkpoint code ${quote(code)} must be digits only: character ${nonDigit + 1} is ${JSON.stringify(code[nonDigit])}`,
    );
  }
  if (code.length !== checkpointCodeLength) {
    throw new CheckpointCodeError(
      'length',
      code.length === 0
        ? `checkpoint code is empty: expected ${checkpointCodeLength} digits`
        : `checkpoint code ${quote(code)} has ${code.length} digits, expected ${checkpointCodeLength}`,
    );
  }
  if (dammCheckDigit(code) !== 0) {
    throw new CheckpointCodeError(
      'check-digit',
      `checkpoint code ${quote(code)} fails its check digit: a digit is mistyped or two are swapped`,
    );
  }
  return code;
}

export function isCheckpointCode(input: string): boolean {
  try {
    parseCheckpointCode(input);
    return true;
  } catch {
    return false;
  }
}

/**
 * A new random code. The first digit is never 0 so a spreadsheet that turns the code into a
 * number cannot silently drop it.
 */
export function generateCheckpointCode(random: (max: number) => number = randomInt): string {
  let body = String(1 + random(9));
  while (body.length < checkpointCodeLength - 1) body += String(random(10));
  return body + String(dammCheckDigit(body));
}

/** For config files: trims, then refuses with the same messages as parseCheckpointCode. */
export const checkpointCodeSchema = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    try {
      parseCheckpointCode(value);
    } catch (err) {
      if (!(err instanceof CheckpointCodeError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message });
    }
  });
