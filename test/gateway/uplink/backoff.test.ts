import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../gateway/uplink/backoff.js';

const options = { minMs: 500, maxMs: 30_000, stableMs: 10_000, quickMaxMs: 4_000, quickForMs: 60_000 };

/** A clock the test moves; each wait returned is also slept, as the uplink does. */
function clocked(extra: Partial<ConstructorParameters<typeof Backoff>[0]> = {}) {
  let nowMs = 0;
  const backoff = new Backoff({ ...options, now: () => nowMs, ...extra });
  return {
    backoff,
    advance: (ms: number) => (nowMs += ms),
    /** The next wait, slept. */
    wait: () => {
      const ms = backoff.next();
      nowMs += ms;
      return ms;
    },
  };
}

describe('Backoff', () => {
  it('retries within quickMaxMs while the outage is young, then doubles on to maxMs', () => {
    const { wait } = clocked({ random: () => 1 });
    const waits: number[] = [];
    let sleptMs = 0;
    while (sleptMs < 60_000) sleptMs += waits[waits.push(wait()) - 1]!;
    // A restart of a few seconds is found again within 4 s, however many attempts failed.
    expect(waits.slice(0, 5)).toEqual([1000, 2000, 4000, 4000, 4000]);
    expect(Math.max(...waits)).toBe(4000);
    // Down for more than a minute: the long-outage ceiling, so a dead central is not hammered.
    expect([wait(), wait(), wait()]).toEqual([30_000, 30_000, 30_000]);
    // far past the cap: no overflow, no NaN
    for (let i = 0; i < 2000; i++) wait();
    expect(wait()).toBe(30_000);
  });

  it('doubles its ceiling from minMs up to maxMs once the outage is old', () => {
    const highest = new Backoff({ ...options, quickForMs: 0, random: () => 1 });
    expect(Array.from({ length: 9 }, () => highest.next())).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  });

  it('never waits less than minMs, and jitters across the whole range up to the ceiling', () => {
    const lowest = new Backoff({ ...options, random: () => 0 });
    expect(Array.from({ length: 8 }, () => lowest.next())).toEqual(Array(8).fill(500));
    const middle = new Backoff({ ...options, random: () => 0.5 });
    expect([middle.next(), middle.next(), middle.next(), middle.next()]).toEqual([750, 1250, 2250, 2250]);

    // A young outage: ten thousand terminals spread over the quick window, not bunched.
    const young = new Backoff(options);
    for (let i = 0; i < 10; i++) young.next();
    const quickWaits = Array.from({ length: 200 }, () => young.next());
    expect(Math.min(...quickWaits)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...quickWaits)).toBeLessThanOrEqual(4000);
    expect(new Set(quickWaits).size).toBeGreaterThan(150);

    const old = new Backoff({ ...options, quickForMs: 0 });
    for (let i = 0; i < 10; i++) old.next();
    const waits = Array.from({ length: 200 }, () => old.next());
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...waits)).toBeLessThanOrEqual(30_000);
    expect(Math.max(...waits)).toBeGreaterThan(4000);
    expect(new Set(waits).size).toBeGreaterThan(150); // spread, not a fixed period
  });

  it('keeps the quick ceiling between minMs and maxMs', () => {
    expect(new Backoff({ ...options, minMs: 10_000, random: () => 1 }).next()).toBe(10_000);
    const tight = new Backoff({ ...options, maxMs: 2_000, random: () => 1 });
    expect([tight.next(), tight.next(), tight.next()]).toEqual([1000, 2000, 2000]);
  });

  it('resets after a connection that stayed up, and a young outage starts again from its end', () => {
    const { backoff, wait, advance } = clocked({ random: () => 1 });
    for (let i = 0; i < 40; i++) wait(); // a long outage
    expect(wait()).toBe(30_000);
    advance(3_600_000); // connected for an hour, then the central restarts
    backoff.connectionEnded(3_600_000);
    expect(backoff.attempt).toBe(0);
    expect([wait(), wait(), wait(), wait()]).toEqual([1000, 2000, 4000, 4000]);
  });

  it('gives a broker that accepts and drops at once no fresh quick window: it reaches maxMs', () => {
    const { backoff, wait, advance } = clocked({ random: () => 1 });
    const waits: number[] = [];
    for (let i = 0; i < 40; i++) {
      waits.push(wait());
      advance(50); // connected, then dropped at once (a bad ACL)
      backoff.connectionEnded(50);
    }
    expect(waits.slice(0, 4)).toEqual([1000, 2000, 4000, 4000]);
    expect(waits.at(-1)).toBe(30_000);
    backoff.connectionEnded(9_999);
    expect(backoff.next()).toBe(30_000);
  });

  it('starts young at construction (a terminal booting during a central restart finds it quickly), and ages', () => {
    const { wait, advance } = clocked({ random: () => 1 });
    expect(wait()).toBe(1000);
    advance(70_000);
    // Never connected for over a minute: the long-outage regime, doubling past the quick ceiling.
    expect([wait(), wait(), wait()]).toEqual([2000, 4000, 8000]);
  });
});
