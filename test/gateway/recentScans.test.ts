import { describe, expect, it } from 'vitest';
import { RecentScans } from '../../gateway/recentScans.js';

describe('RecentScans', () => {
  it('calls a repeat within the window a duplicate, and the window slides with each read', () => {
    const recent = new RecentScans(3000);
    expect(recent.seen('a', 0)).toBe(false);
    expect(recent.seen('a', 2000)).toBe(true);
    expect(recent.seen('a', 4500)).toBe(true); // still on the glass: 2.5 s after the last read
    expect(recent.seen('a', 7600)).toBe(false);
    expect(recent.seen('b', 7600)).toBe(false);
  });

  it('stays bounded however many different cards pass', () => {
    const recent = new RecentScans(60_000, 100);
    for (let i = 0; i < 10_000; i++) recent.seen(`card-${i}`, i);
    // the oldest were forgotten, the newest are still remembered
    expect(recent.seen('card-0', 10_001)).toBe(false);
    expect(recent.seen('card-9999', 10_001)).toBe(true);
  });
});
