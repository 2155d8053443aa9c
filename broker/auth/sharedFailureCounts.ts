import type { Redis } from 'ioredis';
import type { Logger } from '../../protocol/logger.js';

/**
 * The auth throttle's failure counts shared by every node of a cluster (issue 15 point 6),
 * so a guesser spread over three nodes behind one name is slowed as one node would slow it.
 * One Redis counter per source (`auth-failures:address:…`, `auth-failures:username:…`),
 * incremented and given the throttle's window as its expiry in one round trip: a source
 * quiet for a window starts from zero, as it does in memory, and nothing grows without bound.
 *
 * Fallback when Redis does not answer within `timeoutMs`: the node's own in-memory counts
 * (broker/auth/failureThrottle.ts), which it keeps in any case. Each node then throttles on
 * its own, so a guesser gets at most one free allowance per node: weaker, never open, and
 * no login waits on a dead Redis for longer than the timeout. Logged once per outage.
 */

const incrementScript = `
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('incr', key)
  redis.call('pexpire', key, ARGV[1])
end
return counts`;

export interface SharedFailureCountsOptions {
  /** How long a failed CONNECT waits for Redis before the node's own counts decide, ms. */
  readonly timeoutMs?: number;
}

const defaultTimeoutMs = 250;

export class SharedFailureCounts {
  private unreachable = false;
  private readonly timeoutMs: number;

  constructor(
    private readonly redis: Pick<Redis, 'eval' | 'del'>,
    private readonly logger: Logger,
    options: SharedFailureCountsOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  }

  /** Counts one failure against each key, cluster-wide; the counts after it, or null when Redis cannot say in time. */
  async increment(keys: readonly string[], windowMs: number): Promise<number[] | null> {
    if (keys.length === 0) return [];
    let timer: NodeJS.Timeout | undefined;
    try {
      const counts = await Promise.race([
        this.redis.eval(incrementScript, keys.length, ...keys.map(redisKey), windowMs) as Promise<number[]>,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
      if (this.unreachable) {
        this.unreachable = false;
        this.logger.info('auth.shared-throttle-back');
      }
      return counts;
    } catch (err) {
      if (!this.unreachable) {
        this.unreachable = true;
        this.logger.warn({ reason: (err as Error).message, fallback: 'this node counts alone' }, 'auth.shared-throttle-unavailable');
      }
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A terminal got in: its username's shared count goes too. Fire and forget. */
  forget(key: string): void {
    this.redis.del(redisKey(key)).catch(() => undefined);
  }
}

function redisKey(key: string): string {
  return `auth-failures:${key}`;
}
