/**
 * Runs `pass` every `intervalMs` until stopped, never two passes at once: the central's
 * watchers of what other processes write into its data folder and store (published lists,
 * removed terminals). The timer is unref'd, so it never keeps a central alive by itself.
 * `pass` handles its own errors: a watcher must not take the central down.
 */
export class Poller {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  /**
   * `maxShare` (0–1, optional): the passes take at most this share of the time. A pass that
   * took d ms is followed by the next no sooner than d / maxShare ms after it started (and
   * never sooner than intervalMs): a watcher whose pass grows with the fleet slows down
   * instead of taking the event loop from the logins (docs/benchmarks.md, "Reconnect storm").
   */
  constructor(
    private readonly pass: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly options: { readonly maxShare?: number } = {},
  ) {}

  /** True once stop() was called: a long pass checks it between steps. */
  get isStopped(): boolean {
    return this.stopped;
  }

  start(): void {
    if (this.timer !== null || this.stopped) return;
    const maxShare = this.options.maxShare;
    if (maxShare === undefined) {
      this.timer = setInterval(() => void this.poll(), this.intervalMs);
      this.timer.unref();
      return;
    }
    const schedule = (waitMs: number): void => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        const startedMs = performance.now();
        // A pass handles its own errors; should one escape, polling goes on all the same.
        void this.poll()
          .catch(() => undefined)
          .then(() => {
            const tookMs = performance.now() - startedMs;
            schedule(Math.max(this.intervalMs, tookMs / maxShare) - tookMs);
          });
      }, waitMs);
      this.timer.unref();
    };
    schedule(this.intervalMs);
  }

  /** Stops polling and waits for a pass in progress. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer); // an interval's handle too
    this.timer = null;
    await this.running;
  }

  /** One pass now, or the one already running. */
  poll(): Promise<void> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }
}
