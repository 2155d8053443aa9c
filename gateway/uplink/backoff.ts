export interface BackoffOptions {
  readonly minMs: number;
  readonly maxMs: number;
  /** A connection that lasted this long counts as good: the next wait starts from `minMs` again. */
  readonly stableMs: number;
  /**
   * The ceiling while an outage is young (default 4 s, never below `minMs` nor above
   * `maxMs`): a central restarted within `quickForMs` is found again within this long.
   */
  readonly quickMaxMs?: number;
  /** How long an outage counts as young, from the end of the last good connection (or from start), ms. Default 60 s. */
  readonly quickForMs?: number;
  /** Uniform in [0, 1). Injected so tests can pin the jitter. */
  readonly random?: () => number;
  /** A monotonic clock, ms. Injected so tests can move time. */
  readonly now?: () => number;
}

/** The uplink's `stableMs`: a connection up this long was a working one. */
export const stableConnectionMs = 10_000;
export const defaultQuickMaxMs = 4_000;
export const defaultQuickForMs = 60_000;

/**
 * Capped exponential backoff with full jitter between `minMs` and the current ceiling
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/): after a
 * central restart, ten thousand terminals must not all knock in the same millisecond.
 *
 * Two regimes. For the first `quickForMs` of an outage the ceiling doubles only up to
 * `quickMaxMs`: a central back after a restart (seconds) is found again within a few
 * seconds, by a fleet spread evenly over those seconds. With the ceiling doubling straight
 * to 30 s, a restart that took 6 s left terminals waiting up to 16–30 s after it was back,
 * whatever the central cost (docs/benchmarks.md, "Reconnect storm"). Past `quickForMs` the
 * ceiling doubles on up to `maxMs`: a central down for long, or one starting slowly under
 * its whole fleet, is not hammered.
 *
 * The young outage is timed from the end of a connection that stayed up `stableMs` (or from
 * construction, a terminal booting): a broker that accepts and then drops us at once (bad
 * ACL, duplicate client id) starts no new quick window, so it reaches `maxMs` like a long
 * outage. Pure: no timers.
 */
export class Backoff {
  private failures = 0;
  private quickSinceMs: number;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(private readonly options: BackoffOptions) {
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => performance.now());
    this.quickSinceMs = this.now();
  }

  /** Attempts in the current streak, for logs. */
  get attempt(): number {
    return this.failures;
  }

  /** The wait before the next attempt; each call counts one more failure. */
  next(): number {
    const { minMs, maxMs } = this.options;
    const young = this.now() - this.quickSinceMs < (this.options.quickForMs ?? defaultQuickForMs);
    const capMs = young ? Math.min(maxMs, Math.max(minMs, this.options.quickMaxMs ?? defaultQuickMaxMs)) : maxMs;
    // 2^failures overflows to Infinity long after min() has capped it; no NaN either way.
    const ceilingMs = Math.min(capMs, minMs * 2 ** (this.failures + 1));
    this.failures++;
    return Math.round(minMs + this.random() * (ceilingMs - minMs));
  }

  /** A connection ended after `upMs`: a long one forgives the streak and starts a young outage. */
  connectionEnded(upMs: number): void {
    if (upMs >= this.options.stableMs) this.reset();
  }

  reset(): void {
    this.failures = 0;
    this.quickSinceMs = this.now();
  }
}
