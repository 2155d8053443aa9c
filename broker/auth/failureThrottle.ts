import { createHash } from 'node:crypto';
import type { Logger } from '../../protocol/logger.js';
import { printable } from '../mqtt/printable.js';
import type { SharedFailureCounts } from './sharedFailureCounts.js';

/**
 * Slows down repeated CONNECT failures (issue 6: "repeated failures slowed down and logged,
 * no unbounded memory per attacker"). Each source (the remote address, and the username
 * tried) has a failure count; past `freeFailures`, each further failure holds its CONNACK
 * refusal back for `baseDelayMs`, doubling up to `maxDelayMs`. Only refusals wait: a
 * successful login is never delayed, so a terminal whose id is being guessed at, or which
 * shares a NAT address with a broken one, still gets in at once with its own secret.
 *
 * Memory is bounded whatever the attacker does: at most `maxSources` entries (the one
 * that failed least recently is forgotten first; a key is at most 64 characters), and at
 * most `maxPendingRefusals` refusals held back at once: beyond that a refused connection
 * is closed straight away without CONNACK, as a server does when no return code applies
 * [MQTT-3.2.2-6]; to the client it looks like a lost network, and it retries later.
 *
 * Pure bookkeeping with an injected clock; the only IO is the timers of held refusals.
 */

export interface FailureThrottleOptions {
  /** Failures a source may have within `windowMs` before its refusals are held back. */
  readonly freeFailures: number;
  /** How long the first held-back refusal waits, ms; each further failure doubles it. */
  readonly baseDelayMs: number;
  /** The longest a refusal waits, ms. */
  readonly maxDelayMs: number;
  /** A source with no failure for this long starts again from zero; also the period of its `auth.throttled` line, ms. */
  readonly windowMs: number;
  /** Sources remembered at once. */
  readonly maxSources: number;
  /** Refusals waiting at once; a further one closes its connection without CONNACK. */
  readonly maxPendingRefusals: number;
}

export interface FailureThrottleDeps {
  readonly logger: Logger;
  /** ms since the epoch; injected so tests drive time. */
  readonly now?: () => number;
  /**
   * In a cluster, counts shared by every node through Redis (sharedFailureCounts.ts):
   * `refuse` waits as long as the larger of the two counts earns. The in-memory counts are
   * kept all the same: they are the fallback when Redis is unreachable.
   */
  readonly shared?: Pick<SharedFailureCounts, 'increment' | 'forget'>;
}

/** Who a failure is counted against. Either may be missing (no username, an unknown address). */
export interface FailureSources {
  readonly address?: string | undefined;
  readonly username?: string | undefined;
}

interface Entry {
  failures: number;
  lastFailureAtMs: number;
  /** When this source was last named in `auth.throttled`; null: not yet in this window. */
  loggedAtMs: number | null;
}

/** Longer usernames are remembered by their hash, so an entry stays small whatever was sent. */
const maxKeyChars = 64;

function keyOf(kind: 'address' | 'username', value: string): string {
  const short = value.length <= maxKeyChars ? value : createHash('sha256').update(value).digest('base64url');
  return `${kind}:${short}`;
}

/** The keys `sources` are counted under, as `recordFailure` counts them. */
function sourceKeys(sources: FailureSources): string[] {
  const keys: string[] = [];
  if (sources.address) keys.push(keyOf('address', sources.address));
  if (sources.username) keys.push(keyOf('username', sources.username));
  return keys;
}

export class FailureThrottle {
  /** Insertion order = order of last failure: the first entry is the one to forget first. */
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Set<NodeJS.Timeout>();
  private readonly now: () => number;
  private stopped = false;

  constructor(
    private readonly options: FailureThrottleOptions,
    private readonly deps: FailureThrottleDeps,
  ) {
    this.now = deps.now ?? Date.now;
  }

  /** Sources remembered now (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  /** Refusals being held back now. */
  get pendingRefusals(): number {
    return this.pending.size;
  }

  /** Counts one failure against each source and answers how long its refusal should wait, ms. */
  recordFailure(sources: FailureSources): number {
    const nowMs = this.now();
    this.forgetExpired(nowMs);
    let delayMs = 0;
    for (const [kind, value] of [['address', sources.address], ['username', sources.username]] as const) {
      if (value === undefined || value === '') continue;
      const key = keyOf(kind, value);
      const entry = this.entries.get(key) ?? { failures: 0, lastFailureAtMs: nowMs, loggedAtMs: null };
      entry.failures++;
      entry.lastFailureAtMs = nowMs;
      this.entries.delete(key); // re-inserted last: the most recent failure is forgotten last
      this.entries.set(key, entry);
      const sourceDelayMs = this.delayFor(entry.failures);
      if (sourceDelayMs > 0) this.warnOnce(kind, value, entry, sourceDelayMs, nowMs);
      delayMs = Math.max(delayMs, sourceDelayMs);
    }
    while (this.entries.size > this.options.maxSources) this.entries.delete(this.entries.keys().next().value!);
    return delayMs;
  }

  /**
   * How long the sources must still wait before another attempt is even checked, ms (0:
   * now). The HTTP login answers 429 meanwhile instead of running scrypt: a person's
   * password is far weaker than a terminal's secret, so its guesses are refused, not only
   * answered late (broker/api/routes/session.ts).
   */
  waitOwed(sources: FailureSources): number {
    const nowMs = this.now();
    this.forgetExpired(nowMs);
    let waitMs = 0;
    for (const [kind, value] of [['address', sources.address], ['username', sources.username]] as const) {
      if (value === undefined || value === '') continue;
      const entry = this.entries.get(keyOf(kind, value));
      if (entry !== undefined) waitMs = Math.max(waitMs, entry.lastFailureAtMs + this.delayFor(entry.failures) - nowMs);
    }
    return waitMs;
  }

  /**
   * A terminal got in with its secret: failures counted against its username (a rotated
   * secret tried before the new one arrived) are forgiven. The address keeps its count: a
   * guesser behind the same NAT as a working terminal must not be forgiven by its logins.
   */
  recordSuccess(username: string | undefined): void {
    if (!username) return;
    this.entries.delete(keyOf('username', username));
    this.deps.shared?.forget(keyOf('username', username));
  }

  /**
   * Counts the failure, then refuses: at once, after the delay the sources have earned,
   * or, when `maxPendingRefusals` are already waiting, by `drop()` (close without CONNACK).
   */
  refuse(sources: FailureSources, refuseNow: () => void, drop: () => void): void {
    const delayMs = this.recordFailure(sources);
    const shared = this.deps.shared;
    if (!shared) return this.hold(delayMs, refuseNow, drop);
    const keys = sourceKeys(sources);
    void shared.increment(keys, this.options.windowMs).then((counts) => {
      const sharedDelayMs = counts === null ? 0 : Math.max(0, ...counts.map((failures) => this.delayFor(failures)));
      this.hold(Math.max(delayMs, sharedDelayMs), refuseNow, drop);
    });
  }

  /** Refuses now, after `delayMs`, or by `drop()` when too many refusals already wait. */
  private hold(delayMs: number, refuseNow: () => void, drop: () => void): void {
    if (this.stopped) return drop(); // the shared count came back after stop(): the broker is closing
    if (delayMs === 0) return refuseNow();
    if (this.pending.size >= this.options.maxPendingRefusals) return drop();
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      refuseNow();
    }, delayMs);
    timer.unref(); // a held refusal never keeps a stopping process alive
    this.pending.add(timer);
  }

  /** Drops every held refusal (their connections close with the broker); safe to call twice. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
  }

  private delayFor(failures: number): number {
    const { freeFailures, baseDelayMs, maxDelayMs } = this.options;
    if (failures <= freeFailures) return 0;
    // Capped exponent: 2^30 ms is far above any maxDelayMs, and 2^n never overflows to Infinity.
    return Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(failures - freeFailures - 1, 30));
  }

  private forgetExpired(nowMs: number): void {
    for (const [key, entry] of this.entries) {
      if (nowMs - entry.lastFailureAtMs < this.options.windowMs) return; // the rest failed later
      this.entries.delete(key);
    }
  }

  /** One line per source per window: an operator sees who is guessing without a line per attempt. */
  private warnOnce(kind: 'address' | 'username', value: string, entry: Entry, delayMs: number, nowMs: number): void {
    if (entry.loggedAtMs !== null && nowMs - entry.loggedAtMs < this.options.windowMs) return;
    entry.loggedAtMs = nowMs;
    this.deps.logger.warn({ source: kind, [kind]: printable(value), failures: entry.failures, delayMs }, 'auth.throttled');
  }
}
