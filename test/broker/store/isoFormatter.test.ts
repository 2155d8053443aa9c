import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoFormatter, msToIso } from '../../../broker/store/time.js';

describe('isoFormatter', () => {
  it('writes every instant as toISOString does, through runs of neighbours, hour and day boundaries and the years Date writes otherwise', () => {
    const year0 = -62_167_219_200_000; // 0000-01-01T00:00:00.000Z
    const instant = fc.oneof(
      fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }),
      // Just around an hour boundary, on both sides.
      fc.tuple(fc.integer({ min: 480_000, max: 520_000 }), fc.integer({ min: -2_000, max: 2_000 })).map(([hour, offset]) => hour * 3_600_000 + offset),
      // Where toISOString leaves the four-digit form: before year 0 and after 9999.
      fc.integer({ min: year0 - 7_200_000, max: year0 + 7_200_000 }),
      fc.integer({ min: 253_402_300_800_000 - 7_200_000, max: 253_402_300_800_000 + 7_200_000 }),
    );
    fc.assert(
      fc.property(fc.array(instant, { minLength: 1, maxLength: 60 }), (run) => {
        const iso = isoFormatter();
        expect(run.map(iso)).toEqual(run.map(msToIso));
      }),
      { numRuns: 400 },
    );
  });

  it('writes a newest-first page one hour apart per row and within the same millisecond as Date does', () => {
    const iso = isoFormatter();
    const start = Date.UTC(2026, 11, 31, 23, 59, 59, 999);
    for (const ms of [start + 1, start, start, start - 1, start - 59_999, start - 3_600_000, start - 3_599_999]) expect(iso(ms)).toBe(new Date(ms).toISOString());
  });
});
