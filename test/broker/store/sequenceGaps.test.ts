import { describe, expect, it } from 'vitest';
import { overlapSize, planSequence, subtractRange, toRuns } from '../../../broker/store/sequenceGaps.js';

describe('sequence gap planning', () => {
  it('opens gaps above the previous maximum, whatever the order within the batch', () => {
    expect(planSequence(0, [1, 2, 3])).toEqual({ maxSeq: 3, opened: [], late: [] });
    expect(planSequence(0, [4])).toEqual({ maxSeq: 4, opened: [{ fromSeq: 1, toSeq: 3 }], late: [] });
    expect(planSequence(10, [15, 12, 11, 20, 15])).toEqual({
      maxSeq: 20,
      opened: [
        { fromSeq: 13, toSeq: 14 },
        { fromSeq: 16, toSeq: 19 },
      ],
      late: [],
    });
  });

  it('groups numbers at or below the previous maximum into runs to cut from the gaps', () => {
    expect(planSequence(10, [7, 3, 4, 5, 10, 12])).toEqual({
      maxSeq: 12,
      opened: [{ fromSeq: 11, toSeq: 11 }],
      late: [
        { fromSeq: 3, toSeq: 5 },
        { fromSeq: 7, toSeq: 7 },
        { fromSeq: 10, toSeq: 10 },
      ],
    });
    expect(planSequence(10, [])).toEqual({ maxSeq: 10, opened: [], late: [] });
  });

  it('turns sorted numbers into maximal runs', () => {
    expect(toRuns([])).toEqual([]);
    expect(toRuns([1, 2, 3, 5, 7, 8])).toEqual([
      { fromSeq: 1, toSeq: 3 },
      { fromSeq: 5, toSeq: 5 },
      { fromSeq: 7, toSeq: 8 },
    ]);
  });

  it('shrinks, splits or removes a gap when part of it arrives', () => {
    const gap = { fromSeq: 10, toSeq: 20 };
    expect(subtractRange(gap, { fromSeq: 1, toSeq: 9 })).toEqual([gap]);
    expect(subtractRange(gap, { fromSeq: 21, toSeq: 30 })).toEqual([gap]);
    expect(subtractRange(gap, { fromSeq: 5, toSeq: 12 })).toEqual([{ fromSeq: 13, toSeq: 20 }]);
    expect(subtractRange(gap, { fromSeq: 18, toSeq: 25 })).toEqual([{ fromSeq: 10, toSeq: 17 }]);
    expect(subtractRange(gap, { fromSeq: 14, toSeq: 15 })).toEqual([
      { fromSeq: 10, toSeq: 13 },
      { fromSeq: 16, toSeq: 20 },
    ]);
    expect(subtractRange(gap, { fromSeq: 10, toSeq: 20 })).toEqual([]);
    expect(overlapSize(gap, { fromSeq: 18, toSeq: 25 })).toBe(3);
    expect(overlapSize(gap, { fromSeq: 21, toSeq: 25 })).toBe(0);
  });
});
