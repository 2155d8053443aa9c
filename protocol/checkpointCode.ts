import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { checkpointCodeLength, dammCheckDigit, type CheckpointCodeProblem } from './checkpointCodeDigits.js';

export { checkpointCodeLength, checkpointCodeProblem, dammCheckDigit, type CheckpointCodeProblem } from './checkpointCodeDigits.js';

/**
 * Checkpoint codes (DESIGN.md "Checkpoint code"): 14 decimal digits, the last one a Damm
 * check digit. Technicians type these codes, so the check digit must catch the two mistakes
 * people actually make: one wrong digit and two neighbours swapped. Damm catches both,
 * always, with a single decimal digit (Luhn misses 09 <-> 90; Verhoeff needs three tables).
 * https://en.wikipedia.org/wiki/Damm_algorithm
 */

export class CheckpointCodeError extends Error {
  constructor(
    readonly code: CheckpointCodeProblem,
    message: string,
  ) {
    super(message);
    this.name = 'CheckpointCodeError';
  }
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
