import { afterEach, beforeEach, describe, it, expect, vi } from 'vitest';
import { FailureThrottle, type FailureThrottleOptions } from '../../../broker/auth/failureThrottle.js';
import { captureLogger } from '../../fakes/captureLogger.js';

const options: FailureThrottleOptions = { freeFailures: 2, baseDelayMs: 100, maxDelayMs: 1000, windowMs: 60_000, maxSources: 1000, maxPendingRefusals: 2 };

describe('FailureThrottle', () => {
  let nowMs = 1_000_000;
  beforeEach(() => {
    nowMs = 1_000_000;
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function throttle(overrides: Partial<FailureThrottleOptions> = {}) {
    const log = captureLogger('debug');
    return { log, throttle: new FailureThrottle({ ...options, ...overrides }, { logger: log.logger, now: () => nowMs }) };
  }

  it('lets the first freeFailures through at once, then doubles the delay up to maxDelayMs', () => {
    const { throttle: t } = throttle();
    const delays = Array.from({ length: 8 }, () => t.recordFailure({ address: '10.0.0.9' }));
    expect(delays).toEqual([0, 0, 100, 200, 400, 800, 1000, 1000]);
  });

  it('never overflows: 10,000 failures wait maxDelayMs, not Infinity', () => {
    const { throttle: t } = throttle();
    let delayMs = 0;
    for (let i = 0; i < 10_000; i++) delayMs = t.recordFailure({ address: '10.0.0.9' });
    expect(delayMs).toBe(1000);
  });

  it('counts address and username apart and waits for the worse of the two', () => {
    const { throttle: t } = throttle();
    for (let i = 0; i < 4; i++) t.recordFailure({ address: '10.0.0.1', username: 'gate-a' }); // both at 4 failures
    expect(t.recordFailure({ address: '10.0.0.2', username: 'gate-a' })).toBe(400); // the username's 5th
    expect(t.recordFailure({ address: '10.0.0.1', username: 'gate-b' })).toBe(400); // the address's 5th
    expect(t.recordFailure({ address: '10.0.0.3', username: 'gate-c' })).toBe(0);
    expect(t.size).toBe(6);
  });

  it('forgets a source after windowMs without a failure', () => {
    const { throttle: t } = throttle();
    for (let i = 0; i < 5; i++) t.recordFailure({ address: '10.0.0.9' });
    nowMs += options.windowMs - 1;
    expect(t.recordFailure({ address: '10.0.0.9' })).toBe(800); // still remembered: the 6th
    nowMs += options.windowMs;
    expect(t.recordFailure({ address: '10.0.0.9' })).toBe(0); // a fresh start
    expect(t.size).toBe(1);
  });

  it('a success forgives the username, not the address', () => {
    const { throttle: t } = throttle();
    for (let i = 0; i < 4; i++) t.recordFailure({ address: '10.0.0.1', username: 'gate-a' });
    t.recordSuccess('gate-a');
    expect(t.recordFailure({ address: '10.0.0.2', username: 'gate-a' })).toBe(0);
    expect(t.recordFailure({ address: '10.0.0.1' })).toBe(400);
  });

  it('keeps at most maxSources entries under 100,000 distinct sources, forgetting the oldest first', () => {
    const { throttle: t } = throttle({ maxSources: 1000 });
    for (let i = 0; i < 100_000; i++) {
      // Each attempt a new address and a new username: the worst case for memory.
      t.recordFailure({ address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, username: `guess-${i}` });
      expect(t.size).toBeLessThanOrEqual(1000);
    }
    expect(t.size).toBe(1000);
    // The most recent sources are the ones remembered: the last one is on its 2nd failure.
    t.recordFailure({ username: 'guess-99999' });
    expect(t.recordFailure({ username: 'guess-99999' })).toBe(100);
    expect(t.recordFailure({ username: 'guess-0' })).toBe(0); // long forgotten
  });

  it('remembers a huge username by a bounded key: the same megabyte twice is one source', () => {
    const { throttle: t } = throttle();
    const huge = 'x'.repeat(1024 * 1024);
    expect([t.recordFailure({ username: huge }), t.recordFailure({ username: huge }), t.recordFailure({ username: huge })]).toEqual([0, 0, 100]);
    expect(t.recordFailure({ username: `${huge}y` })).toBe(0);
  });

  it('holds a refusal back for its delay, then answers it', async () => {
    const { throttle: t } = throttle({ freeFailures: 0 });
    const refused = vi.fn();
    const dropped = vi.fn();
    t.refuse({ address: '10.0.0.9' }, refused, dropped);
    expect(t.pendingRefusals).toBe(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(refused).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(refused).toHaveBeenCalledTimes(1);
    expect(dropped).not.toHaveBeenCalled();
    expect(t.pendingRefusals).toBe(0);
  });

  it('answers at once while a source is within its free failures', () => {
    const { throttle: t } = throttle();
    const refused = vi.fn();
    t.refuse({ address: '10.0.0.9' }, refused, () => undefined);
    expect(refused).toHaveBeenCalledTimes(1);
    expect(t.pendingRefusals).toBe(0);
  });

  it('closes without an answer once maxPendingRefusals are waiting', async () => {
    const { throttle: t } = throttle({ freeFailures: 0, maxPendingRefusals: 2 });
    const refused = vi.fn();
    const dropped = vi.fn();
    for (let i = 0; i < 5; i++) t.refuse({ address: '10.0.0.9' }, refused, dropped);
    expect(t.pendingRefusals).toBe(2);
    expect(dropped).toHaveBeenCalledTimes(3);
    await vi.advanceTimersByTimeAsync(options.maxDelayMs);
    expect(refused).toHaveBeenCalledTimes(2);
    // Slots free again: the next one waits instead of being dropped.
    t.refuse({ address: '10.0.0.9' }, refused, dropped);
    expect(t.pendingRefusals).toBe(1);
    expect(dropped).toHaveBeenCalledTimes(3);
  });

  it('stop() drops every held refusal and is safe twice', async () => {
    const { throttle: t } = throttle({ freeFailures: 0 });
    const refused = vi.fn();
    t.refuse({ address: '10.0.0.9' }, refused, () => undefined);
    t.stop();
    t.stop();
    await vi.advanceTimersByTimeAsync(options.maxDelayMs);
    expect(refused).not.toHaveBeenCalled();
    expect(t.pendingRefusals).toBe(0);
  });

  it('says auth.throttled once per source per window, with the count and the delay', () => {
    const { throttle: t, log } = throttle();
    for (let i = 0; i < 6; i++) t.recordFailure({ address: '10.0.0.9', username: 'gate-a' });
    expect(log.messages('auth.throttled')).toEqual([
      expect.objectContaining({ level: 40, source: 'address', address: '10.0.0.9', failures: 3, delayMs: 100 }),
      expect.objectContaining({ level: 40, source: 'username', username: 'gate-a', failures: 3, delayMs: 100 }),
    ]);
    nowMs += options.windowMs / 2; // still failing, in a new window since the last line
    t.recordFailure({ address: '10.0.0.9' });
    nowMs += options.windowMs / 2;
    t.recordFailure({ address: '10.0.0.9' });
    expect(log.messages('auth.throttled').map((l) => [l.source, l.failures])).toEqual([
      ['address', 3],
      ['username', 3],
      ['address', 8],
    ]);
  });

  it('logs a hostile username as a bounded printable copy', () => {
    const { throttle: t, log } = throttle({ freeFailures: 0 });
    t.recordFailure({ username: `evil\n{"msg":"forged"}${'z'.repeat(500)}` });
    const [line] = log.messages('auth.throttled');
    expect(String(line?.username)).not.toContain('\n');
    expect(String(line?.username).length).toBeLessThanOrEqual(129);
  });
});
