import type { TerminalDb } from './terminalDb.js';
import { systemdClockSynced } from './uplink/clockSync.js';

export interface ClockReading {
  readonly ms: number;
  /** False when the wall clock is behind a time we have already seen: it cannot be right. */
  readonly trusted: boolean;
}

export interface TerminalClockDeps {
  /** Default Date.now. */
  readonly wallMs?: () => number;
  /** Any clock that only moves forward at the rate of real time; default performance.now. */
  readonly monotonicMs?: () => number;
  /** Whether the OS says the wall clock is synchronised (NTP); default systemd-timesyncd's flag. */
  readonly osSynced?: () => boolean | null;
}

/** Tolerance for small NTP steps backwards before we call the wall clock wrong. */
const STEP_BACK_TOLERANCE_MS = 2000;
const PERSIST_EVERY_MS = 60_000;
/** How long the OS's sync flag is believed once read: it only matters while the wall clock is behind. */
const SYNC_CHECK_EVERY_MS = 5000;
/**
 * While the wall clock is behind, the terminal's time runs at this fraction of real time,
 * so the wall clock gains on it and the two meet again (an hour's step back is absorbed in
 * two hours), the way NTP slews rather than steps. Still moving, so debounce and pulse
 * windows end; windows measured in terminal time just last twice as long meanwhile.
 */
const SLEW_RATE = 0.5;

/**
 * Never trusts wall time alone (STYLE.md "Known traps": a Pi with no network boots with
 * a wrong clock). The terminal's time is the later of the wall clock and the time known to
 * have passed: the last reading plus what the monotonic clock has counted since, starting
 * from a persisted high-water mark that also absorbs evidence such as a list's issue time.
 *
 * So when the wall clock steps back (a reboot in 1970, an NTP correction of a clock that
 * ran fast), the terminal's time does not freeze at the old high-water mark, which would
 * make every repeat scan a "duplicate" until the wall clock caught up: it keeps running,
 * slewed (SLEW_RATE) and marked untrusted, until the wall clock meets it.
 * When the OS says the wall clock is synchronised, a step back is the correction of an
 * earlier wrong reading: the wall clock is followed at once and the high-water mark reset,
 * so a clock once set years ahead by hand does not stamp events in the future until then.
 */
export class TerminalClock {
  private lastMs: number;
  private lastMonotonicMs: number;
  private persistedMs: number;
  private syncedCheckedAtMs = Number.NEGATIVE_INFINITY;
  private synced: boolean | null = null;
  private readonly readHighWater;
  private readonly raiseHighWater;
  private readonly setHighWater;
  private readonly wallMs: () => number;
  private readonly monotonicMs: () => number;
  private readonly osSynced: () => boolean | null;

  constructor(db: TerminalDb, deps: TerminalClockDeps = {}) {
    this.wallMs = deps.wallMs ?? Date.now;
    this.monotonicMs = deps.monotonicMs ?? (() => performance.now());
    this.osSynced = deps.osSynced ?? (() => systemdClockSynced());
    this.readHighWater = db.prepare<[], { value: number }>("SELECT value FROM meta WHERE key = 'clockHighWaterMs'");
    this.raiseHighWater = db.prepare<[number]>("UPDATE meta SET value = max(value, ?) WHERE key = 'clockHighWaterMs'");
    this.setHighWater = db.prepare<[number]>("UPDATE meta SET value = ? WHERE key = 'clockHighWaterMs'");
    this.lastMs = this.readHighWater.get()?.value ?? 0;
    this.persistedMs = this.lastMs;
    this.lastMonotonicMs = this.monotonicMs();
  }

  now(): ClockReading {
    const wall = this.wallMs();
    const monotonic = this.monotonicMs();
    const elapsed = Math.max(0, monotonic - this.lastMonotonicMs);
    this.lastMonotonicMs = monotonic;
    let trusted = true;
    if (wall >= this.lastMs + elapsed - STEP_BACK_TOLERANCE_MS) {
      this.lastMs = Math.max(wall, this.lastMs + elapsed);
    } else if (this.wallClockSynced(monotonic)) {
      this.lastMs = wall;
      this.reset();
    } else {
      const slewed = this.lastMs + elapsed * SLEW_RATE;
      // Met again: the wall clock has gained the step back on the slowed terminal time.
      trusted = wall >= slewed;
      this.lastMs = Math.max(wall, slewed);
    }
    if (this.lastMs - this.persistedMs >= PERSIST_EVERY_MS) {
      try {
        this.persist();
      } catch {
        // A full disk must not make reading the time throw (the uplink stamps its status
        // with it); the mark stays in memory, and every stored event persists it anyway.
      }
    }
    return { ms: this.lastMs, trusted };
  }

  /** A time known to have passed (e.g. a verified list's issue time). */
  observe(ms: number): void {
    if (ms > this.lastMs) {
      this.lastMs = ms;
      this.persist();
    }
  }

  persist(): void {
    this.raiseHighWater.run(this.lastMs);
    this.persistedMs = this.lastMs;
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
    if (this.lastMs > this.persistedMs) this.persist();
  }

  private reset(): void {
    this.setHighWater.run(this.lastMs);
    this.persistedMs = this.lastMs;
  }

  private wallClockSynced(monotonic: number): boolean {
    if (monotonic - this.syncedCheckedAtMs >= SYNC_CHECK_EVERY_MS) {
      this.synced = this.osSynced();
      this.syncedCheckedAtMs = monotonic;
    }
    return this.synced === true;
  }
}
