import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { FailureThrottle, type FailureThrottleOptions } from '../../../broker/auth/failureThrottle.js';
import { SharedFailureCounts } from '../../../broker/auth/sharedFailureCounts.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { testRedisUrl, useRedisPrefix } from '../../helpers/redis.js';
import { timerSlackMs } from '../../helpers/timerSlack.js';

const options: FailureThrottleOptions = { freeFailures: 2, baseDelayMs: 40, maxDelayMs: 1000, windowMs: 60_000, maxSources: 100, maxPendingRefusals: 100 };

/** How long `throttle` held a refusal back, ms (measured on the real clock: refuse() runs its timer). */
function refusalDelay(throttle: FailureThrottle, address: string): Promise<'refused' | 'dropped'> {
  return new Promise((resolve) => throttle.refuse({ address }, () => resolve('refused'), () => resolve('dropped')));
}

describe('auth failure counts shared by the nodes of a cluster', () => {
  const redisPrefix = useRedisPrefix();
  const connections: Redis[] = [];
  afterEach(() => {
    for (const connection of connections.splice(0)) connection.disconnect();
  });

  function node(prefix: string, url = testRedisUrl) {
    const redis = new Redis(url, { keyPrefix: prefix, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: url !== testRedisUrl });
    redis.on('error', () => undefined);
    connections.push(redis);
    const log = captureLogger();
    const throttle = new FailureThrottle(options, { logger: log.logger, shared: new SharedFailureCounts(redis, log.logger, { timeoutMs: 200 }) });
    return { throttle, log };
  }

  it('slows a guesser spreading its attempts over two nodes as one node would', async () => {
    const prefix = redisPrefix();
    const [a, b] = [node(prefix), node(prefix)];
    // Four failures from one address, alternating nodes: each node saw two (its free allowance),
    // the cluster saw four, so the third and fourth are held back.
    const timings: number[] = [];
    for (const throttle of [a.throttle, b.throttle, a.throttle, b.throttle]) {
      const started = performance.now();
      await refusalDelay(throttle, '203.0.113.9');
      timings.push(performance.now() - started);
    }
    expect(a.throttle.size).toBe(1);
    // Held refusals wait at least baseDelayMs (40, then 80); the free ones do not wait for a timer.
    expect(timings[2]).toBeGreaterThanOrEqual(40 - timerSlackMs);
    expect(timings[3]).toBeGreaterThanOrEqual(80 - timerSlackMs);
    const redis = new Redis(testRedisUrl);
    connections.push(redis);
    expect(await redis.get(`${prefix}auth-failures:address:203.0.113.9`)).toBe('4');
    expect(await redis.pttl(`${prefix}auth-failures:address:203.0.113.9`)).toBeGreaterThan(50_000);
  });

  it('falls back to the node\'s own counts when Redis does not answer, and says so once', async () => {
    const prefix = redisPrefix();
    // A port nothing listens on: every shared count fails at once.
    const lost = node(prefix, 'redis://127.0.0.1:1/0');
    const outcomes = [];
    let lastMs = 0;
    for (let i = 0; i < 4; i++) {
      const started = performance.now();
      outcomes.push(await refusalDelay(lost.throttle, '198.51.100.7'));
      lastMs = performance.now() - started;
    }
    expect(outcomes).toEqual(['refused', 'refused', 'refused', 'refused']);
    // The local count still throttles: the fourth failure waited its 80 ms.
    expect(lastMs).toBeGreaterThanOrEqual(80 - timerSlackMs);
    expect(lost.log.messages('auth.shared-throttle-unavailable')).toHaveLength(1);
  });
});
