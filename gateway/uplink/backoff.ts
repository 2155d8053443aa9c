export interface BackoffOptions {
  readonly minMs: number;
  readonly maxMs: number;
  /** A connection that lasted this long counts as good: the next wait starts from `minMs` again. */
  readonly stableMs: number;
  /** Uniform in [0, 1). Injected so tests can pin the jitter. */
  readonly random?: () => number;
}

/**
 * Capped exponential backoff with full jitter between `minMs` and the current ceiling
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/): after a
 * central restart, ten thousand terminals must not all knock in the same millisecond.
 * The ceiling doubles per failed attempt, up to `maxMs`. It resets only after a connection
 * that stayed up for `stableMs`: a broker that accepts and then drops us at once (bad
 * ACL, duplicate client id) must not be hammered at `minMs` forever. Pure: no timers.
 */
export class Backoff {
  private failures = 0;
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions) {
    this.random = options.random ?? Math.random;
  }

  /** Attempts in the current streak, for logs. */
  get attempt(): number {
    return this.failures;
  }

  /** The wait before the next attempt; each call counts one more failure. */
  next(): number {
    const { minMs, maxMs } = this.options;
    // 2^failures overflows to Infinity long after min() has capped it; no NaN either way.
    const ceilingMs = Math.min(maxMs, minMs * 2 ** (this.failures + 1));
    this.failures++;
    return Math.round(minMs + this.random() * (ceilingMs - minMs));
  }

  /** A connection ended after `upMs`: a long one forgives the streak. */
  connectionEnded(upMs: number): void {
    if (upMs >= this.options.stableMs) this.failures = 0;
  }

  reset(): void {
    this.failures = 0;
  }
}
