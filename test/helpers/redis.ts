import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach } from 'vitest';

/**
 * The machine's Redis for tests (127.0.0.1:6379; override with QRGATE_TEST_REDIS_URL).
 * Every test gets a key prefix of its own, which the cluster config puts before every key and
 * pub/sub channel (broker/mqtt/redisBackplane.ts): two files running at once never see each
 * other's retained messages or emitter traffic, and the keys are deleted after each test.
 */
export const testRedisUrl = process.env.QRGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

export function useRedisPrefix(): () => string {
  const used: string[] = [];
  afterEach(async () => {
    const prefixes = used.splice(0);
    if (prefixes.length === 0) return;
    const redis = new Redis(testRedisUrl, { maxRetriesPerRequest: 1 });
    try {
      for (const prefix of prefixes) {
        for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<string[]>) {
          if (keys.length > 0) await redis.del(...keys);
        }
      }
    } finally {
      redis.disconnect();
    }
  });
  return () => {
    const prefix = `qrgate-test-${randomBytes(6).toString('hex')}:`;
    used.push(prefix);
    return prefix;
  };
}

/** How many keys start with `prefix` now. */
export async function redisKeyCount(prefix: string): Promise<number> {
  const redis = new Redis(testRedisUrl, { maxRetriesPerRequest: 1 });
  try {
    let count = 0;
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<string[]>) count += keys.length;
    return count;
  } finally {
    redis.disconnect();
  }
}
