/**
 * Debounce memory for one lane. A scanner in continuous mode re-reads a card held in front
 * of it several times a second; each re-read within `windowMs` of the previous one is a
 * duplicate, and the window slides so a card left on the glass never opens the gate twice.
 * Bounded: old keys are pruned, and at most `maxKeys` are remembered.
 */
export class RecentScans {
  private readonly lastSeenMs = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Records the scan and says whether it repeats one seen within the window. */
  seen(key: string, nowMs: number): boolean {
    const previous = this.lastSeenMs.get(key);
    this.lastSeenMs.delete(key); // re-insert so Map order stays oldest-first
    this.lastSeenMs.set(key, nowMs);
    this.prune(nowMs);
    return previous !== undefined && nowMs - previous < this.windowMs;
  }

  forget(key: string): void {
    this.lastSeenMs.delete(key);
  }

  private prune(nowMs: number): void {
    for (const [key, at] of this.lastSeenMs) {
      if (nowMs - at < this.windowMs && this.lastSeenMs.size <= this.maxKeys) break;
      this.lastSeenMs.delete(key);
    }
  }
}
