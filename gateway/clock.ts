import type { TerminalDb } from './terminalDb.js';

export interface ClockReading {
  readonly ms: number;
  /** False when the wall clock is behind a time we have already seen: it cannot be right. */
  readonly trusted: boolean;
}

/** Tolerance for small NTP steps backwards before we call the wall clock wrong. */
const STEP_BACK_TOLERANCE_MS = 2000;
const PERSIST_EVERY_MS = 60_000;

/**
 * Never trusts wall time alone (STYLE.md "Known traps": a Pi with no network boots with
 * a wrong clock). Time never runs backwards here: it is the later of the wall clock and a
 * persisted high-water mark that also absorbs evidence such as a list's issue time.
 */
export class TerminalClock {
  private highWaterMs: number;
  private persistedMs: number;
  private readonly readHighWater;
  private readonly writeHighWater;

  constructor(
    db: TerminalDb,
    private readonly wallMs: () => number = Date.now,
  ) {
    this.readHighWater = db.prepare<[], { value: number }>("SELECT value FROM meta WHERE key = 'clockHighWaterMs'");
    this.writeHighWater = db.prepare<[number]>("UPDATE meta SET value = max(value, ?) WHERE key = 'clockHighWaterMs'");
    this.highWaterMs = this.readHighWater.get()?.value ?? 0;
    this.persistedMs = this.highWaterMs;
  }

  now(): ClockReading {
    const wall = this.wallMs();
    const trusted = wall >= this.highWaterMs - STEP_BACK_TOLERANCE_MS;
    if (wall > this.highWaterMs) this.highWaterMs = wall;
    if (this.highWaterMs - this.persistedMs >= PERSIST_EVERY_MS) {
      try {
        this.persist();
      } catch {
        // A full disk must not make reading the time throw (the uplink stamps its status
        // with it); the mark stays in memory, and every stored event persists it anyway.
      }
    }
    return { ms: this.highWaterMs, trusted };
  }

  /** A time known to have passed (e.g. a verified list's issue time). */
  observe(ms: number): void {
    if (ms > this.highWaterMs) {
      this.highWaterMs = ms;
      this.persist();
    }
  }

  persist(): void {
    this.writeHighWater.run(this.highWaterMs);
    this.persistedMs = this.highWaterMs;
  }

  /**
   * Persists the high-water mark if it moved since the last write. The outbox calls it
   * inside the transaction that stores an event, so no stored event is ever later than the
   * time a restart starts from: without it a SIGKILL lost up to PERSIST_EVERY_MS of the
   * mark, and after the wall clock stepped back the next boot stamped its events before the
   * last ones (found by test/chaos). It writes the meta page the sequence update already
   * dirties in that transaction, so it costs no extra page write.
   */
  persistIfMoved(): void {
    if (this.highWaterMs > this.persistedMs) this.persist();
  }
}
