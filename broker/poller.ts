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

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  /** True once stop() was called: a long pass checks it between steps. */
  get isStopped(): boolean {
    return this.stopped;
  }

  start(): void {
    if (this.timer !== null || this.stopped) return;
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops polling and waits for a pass in progress. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
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
