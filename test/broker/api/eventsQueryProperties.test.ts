import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventsQuerySchema } from '../../../broker/api/routes/events.js';

/**
 * The /api/events time bounds (fast-check): any date or date-time with any zone, at the
 * edges of the calendar too. Whatever is accepted comes out as an instant, and `to` is
 * accepted only when it is later than `from`. 1,000 cases.
 */

const RUNS = 1000;
const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const bound = fc
  .record({
    // The calendar's edges as often as its middle: a zone can push an instant past either end.
    year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 1969, 1970, 9999)),
    month: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(1, 12)),
    day: fc.oneof(fc.integer({ min: 1, max: 28 }), fc.constantFrom(1, 31)),
    time: fc.option(fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 })), { nil: undefined }),
    zone: fc.oneof(fc.constant('Z'), fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([sign, h, m]) => `${sign}${pad(h)}:${pad(m)}`)),
  })
  .map(({ year, month, day, time, zone }) => {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const safeDay = Math.min(day, [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!);
    return `${pad(year, 4)}-${pad(month)}-${pad(safeDay)}${time ? `T${time.map((n) => pad(n)).join(':')}${zone}` : ''}`;
  });

describe('events query time bounds (fast-check)', () => {
  it(`accepts from/to only in time order, whatever the zones and years (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(bound, bound, (from, to) => {
        const parsed = eventsQuerySchema.safeParse({ from, to });
        const [fromMs, toMs] = [Date.parse(from), Date.parse(to)];
        if (parsed.success) {
          expect(Date.parse(parsed.data.from!)).toBe(fromMs);
          expect(Date.parse(parsed.data.to!)).toBe(toMs);
          expect(fromMs).toBeLessThan(toMs);
        } else {
          expect(parsed.error.issues.map((issue) => issue.path.join('.'))).toContain('to');
          expect(fromMs).toBeGreaterThanOrEqual(toMs);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
