import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../gateway/uplink/backoff.js';

const options = { minMs: 500, maxMs: 30_000, stableMs: 10_000 };

describe('Backoff', () => {
  it('grows by doubling its ceiling and is capped at maxMs', () => {
    const highest = new Backoff({ ...options, random: () => 1 });
    expect(Array.from({ length: 9 }, () => highest.next())).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000]);
    // far past the cap: no overflow, no NaN
    for (let i = 0; i < 2000; i++) highest.next();
    expect(highest.next()).toBe(30_000);
  });

  it('never waits less than minMs, and jitters across the whole range up to the ceiling', () => {
    const lowest = new Backoff({ ...options, random: () => 0 });
    expect(Array.from({ length: 8 }, () => lowest.next())).toEqual(Array(8).fill(500));
    const middle = new Backoff({ ...options, random: () => 0.5 });
    expect([middle.next(), middle.next(), middle.next()]).toEqual([750, 1250, 2250]);

    const real = new Backoff(options);
    for (let i = 0; i < 10; i++) real.next();
    const waits = Array.from({ length: 200 }, () => real.next());
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...waits)).toBeLessThanOrEqual(30_000);
    expect(new Set(waits).size).toBeGreaterThan(150); // spread, not a fixed period
  });

  it('resets after a connection that stayed up, not after one dropped at once', () => {
    const backoff = new Backoff({ ...options, random: () => 1 });
    for (let i = 0; i < 6; i++) backoff.next();
    backoff.connectionEnded(9_999);
    expect(backoff.next()).toBe(30_000);
    backoff.connectionEnded(10_000);
    expect(backoff.attempt).toBe(0);
    expect(backoff.next()).toBe(1000);
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(1000);
  });
});
