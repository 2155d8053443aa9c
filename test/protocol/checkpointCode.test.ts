import { describe, it, expect } from 'vitest';
import {
  CheckpointCodeError,
  checkpointCodeSchema,
  dammCheckDigit,
  generateCheckpointCode,
  parseCheckpointCode,
} from '../../protocol/checkpointCode.js';

function problemOf(input: string): string | null {
  try {
    parseCheckpointCode(input);
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(CheckpointCodeError);
    return (err as CheckpointCodeError).code;
  }
}

function seeded(seed: number): (max: number) => number {
  let state = seed;
  return (max) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % max;
  };
}

const validCodes = ['10000000000008', generateCheckpointCode(seeded(1)), generateCheckpointCode(seeded(2)), generateCheckpointCode(seeded(3))];

describe('dammCheckDigit', () => {
  it('matches the published example (572 -> 4) and gives 0 for a complete code', () => {
    expect(dammCheckDigit('572')).toBe(4);
    expect(dammCheckDigit('5724')).toBe(0);
    expect(dammCheckDigit('1000000000000')).toBe(8);
  });

  it('refuses non-digits', () => {
    expect(() => dammCheckDigit('12a')).toThrow(RangeError);
  });
});

describe('parseCheckpointCode', () => {
  it('accepts valid codes, trimming surrounding whitespace', () => {
    for (const code of validCodes) expect(parseCheckpointCode(`  ${code}\n`)).toBe(code);
  });

  it('catches every single-digit substitution (exhaustive)', () => {
    let tried = 0;
    for (const code of validCodes) {
      for (let i = 0; i < code.length; i++) {
        for (let d = 0; d <= 9; d++) {
          if (String(d) === code[i]) continue;
          const typo = code.slice(0, i) + String(d) + code.slice(i + 1);
          expect(problemOf(typo), typo).toBe('check-digit');
          tried++;
        }
      }
    }
    expect(tried).toBe(validCodes.length * 14 * 9);
  });

  it('catches every adjacent transposition (exhaustive)', () => {
    let tried = 0;
    for (const code of validCodes) {
      for (let i = 0; i < code.length - 1; i++) {
        if (code[i] === code[i + 1]) continue;
        const swapped = code.slice(0, i) + code[i + 1] + code[i] + code.slice(i + 2);
        expect(problemOf(swapped), swapped).toBe('check-digit');
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(validCodes.length * 5);
  });

  it('tells the technician what is wrong', () => {
    expect(problemOf('1000000000008')).toBe('length');
    expect(problemOf('100000000000080')).toBe('length');
    expect(problemOf('')).toBe('length');
    expect(problemOf('1000000000000O')).toBe('non-digit');
    expect(problemOf('1000 0000 0000 08')).toBe('non-digit');
    expect(() => parseCheckpointCode('10000000000009')).toThrow(
      'checkpoint code "10000000000009" fails its check digit: a digit is mistyped or two are swapped',
    );
    expect(() => parseCheckpointCode('12345')).toThrow('has 5 digits, expected 14');
    expect(() => parseCheckpointCode('1000000000000O')).toThrow('character 14 is "O"');
  });
});

describe('generateCheckpointCode', () => {
  it('makes valid 14-digit codes that never start with 0', () => {
    for (let i = 0; i < 500; i++) {
      const code = generateCheckpointCode();
      expect(code).toMatch(/^[1-9]\d{13}$/);
      expect(parseCheckpointCode(code)).toBe(code);
    }
  });

  it('uses the injected randomness', () => {
    expect(generateCheckpointCode(() => 0)).toBe(`1${'0'.repeat(12)}8`);
    expect(generateCheckpointCode(seeded(7))).toBe(generateCheckpointCode(seeded(7)));
  });
});

describe('checkpointCodeSchema', () => {
  it('trims valid codes', () => {
    expect(checkpointCodeSchema.parse(' 10000000000008 ')).toBe('10000000000008');
  });

  it('reports the same message as the parser', () => {
    const result = checkpointCodeSchema.safeParse('10000000000080');
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toEqual([
      'checkpoint code "10000000000080" fails its check digit: a digit is mistyped or two are swapped',
    ]);
    expect(checkpointCodeSchema.safeParse(10000000000008).success).toBe(false);
  });
});
