import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ScanFrame, Scanner, ScannerEvents } from './scanner.js';

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * What every driver shares: the connected flag with events on transitions only, and frame
 * delivery that isolates listeners (STYLE.md habit 7): a listener that throws is logged and
 * never reaches the driver's read loop.
 */
export abstract class ScannerBase extends EventEmitter<ScannerEvents> implements Scanner {
  abstract readonly type: Scanner['type'];
  /** null: not known since start(), so the first outcome is always reported. */
  private state: boolean | null = null;

  constructor(protected readonly logger: Logger) {
    super();
  }

  get connected(): boolean {
    return this.state === true;
  }

  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;

  protected deliver(frame: ScanFrame): void {
    this.emitIsolated('frame', frame);
  }

  /** Emits `connected` / `disconnected` when the state changes (or is first known after start). */
  protected setConnected(up: boolean, reason = ''): void {
    if (up === this.state) return;
    this.state = up;
    if (up) this.emitIsolated('connected');
    else this.emitIsolated('disconnected', reason);
  }

  /** stop(): not connected, and no event (nobody is waiting for a reopen). */
  protected markStopped(): void {
    this.state = null;
  }

  /** Like emit(), but every listener runs even if one throws. rawListeners: `once` wrappers still remove themselves. */
  private emitIsolated<K extends keyof ScannerEvents>(event: K, ...args: ScannerEvents[K]): void {
    for (const listener of this.rawListeners(event) as ((...a: ScannerEvents[K]) => void)[]) {
      try {
        listener.apply(this, args);
      } catch (err) {
        this.logger.error({ err, event }, 'scanner.listener-failed');
      }
    }
  }
}

export interface ReconnectOptions {
  /** First delay before reopening a device that went away or failed to open, in ms. Default 1000. */
  readonly reopenDelayMs?: number;
  /** The delay doubles on each failed attempt up to this, in ms. Default 10 × reopenDelayMs, at most 30 s. */
  readonly maxReopenDelayMs?: number;
}

/**
 * A driver for a device that can go away: opens it, reports `disconnected` when it fails or
 * is lost, and keeps reopening it with a capped exponential backoff until `stop()`. A
 * missing device at `start()` is not an error: the terminal decides without its scanner.
 */
export abstract class ReconnectingScanner<Handle> extends ScannerBase {
  private running = false;
  /** Bumped by start/stop so an open that resolves after stop() is closed, not adopted. */
  private generation = 0;
  private handle: Handle | null = null;
  private attempt: Promise<void> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  private firstFailureLogged = false;

  constructor(
    logger: Logger,
    private readonly reconnect: ReconnectOptions,
  ) {
    super(logger);
  }

  /** Opens the device; rejects when it is absent or refuses. */
  protected abstract openHandle(): Promise<Handle>;
  /** Starts reading from an open device; calls `lost(reason)` once if it goes away. */
  protected abstract attach(handle: Handle, lost: (reason: string) => void): void;
  /** Closes the device; may reject when it is already gone (ignored). */
  protected abstract closeHandle(handle: Handle): Promise<void>;
  /** The device is no longer read: drop partial frames. */
  protected abstract detached(): void;

  /** True while `handle` is the open device (not closed by stop() or lost). */
  protected isCurrent(handle: Handle): boolean {
    return this.handle === handle;
  }

  /** The next reopen delay, for tests and logs. */
  get nextReopenDelayMs(): number {
    const first = this.reconnect.reopenDelayMs ?? 1000;
    const max = this.reconnect.maxReopenDelayMs ?? Math.min(10 * first, 30_000);
    return Math.min(first * 2 ** Math.min(this.failures, 20), Math.max(first, max));
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.generation++;
    this.failures = 0;
    this.firstFailureLogged = false;
    this.attempt = this.tryOpen(this.generation);
    await this.attempt;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.generation++;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.attempt;
    const handle = this.handle;
    this.handle = null;
    this.detached();
    if (handle !== null) await this.closeQuietly(handle);
    this.markStopped();
  }

  private async tryOpen(generation: number): Promise<void> {
    let handle: Handle;
    try {
      handle = await this.openHandle();
    } catch (err) {
      if (generation !== this.generation) return;
      this.failed(`open failed: ${message(err)}`);
      return;
    }
    if (generation !== this.generation) {
      await this.closeQuietly(handle);
      return;
    }
    this.handle = handle;
    this.failures = 0;
    this.firstFailureLogged = false;
    this.logger.debug('scanner.opened');
    this.attach(handle, (reason) => this.lost(handle, reason));
    // attach() may already have reported a loss synchronously.
    if (this.handle === handle) this.setConnected(true);
  }

  private lost(handle: Handle, reason: string): void {
    if (this.handle !== handle) return; // we closed it ourselves, or already handled
    this.handle = null;
    this.detached();
    void this.closeQuietly(handle);
    this.failed(reason);
  }

  private failed(reason: string): void {
    const delayMs = this.nextReopenDelayMs;
    this.failures++;
    // One warning per outage, not one per retry: an unplugged scanner retries all night.
    if (!this.firstFailureLogged) this.logger.warn({ reason, retryInMs: delayMs }, 'scanner.unavailable');
    else this.logger.debug({ reason, retryInMs: delayMs }, 'scanner.retry-failed');
    this.firstFailureLogged = true;
    this.setConnected(false, reason);
    // A listener may have called stop() from the `disconnected` event.
    if (!this.running) return;
    const generation = this.generation;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.attempt = this.tryOpen(generation);
    }, delayMs);
  }

  private async closeQuietly(handle: Handle): Promise<void> {
    try {
      await this.closeHandle(handle);
    } catch {
      // already closed or gone: nothing left to release
    }
  }
}
