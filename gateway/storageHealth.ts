import type { Logger } from 'pino';
import type { Telemetry } from '../protocol/messages.js';

interface Failing {
  readonly code: string;
  readonly sinceMs: number;
  failures: number;
}

/**
 * Whether the terminal's database takes writes. A full disk or a dying SD card makes every
 * decision fail to record (the lane then refuses, the relay never moves: gateway/lane.ts);
 * this turns those failures into one alarm per episode — `storage.write-failed` at error
 * level and `storage` in telemetry — and `storage.recovered` when a write succeeds again,
 * instead of leaving the operator to infer it from a stream of `lane.failed` lines.
 */
export class StorageHealth {
  private failing: Failing | null = null;

  constructor(private readonly deps: { readonly logger: Logger; readonly nowMs?: () => number }) {}

  /** A write went through. */
  wrote(): void {
    const failing = this.failing;
    if (!failing) return;
    this.failing = null;
    const durationMs = this.now() - failing.sinceMs;
    this.deps.logger.warn({ code: failing.code, failures: failing.failures, durationMs }, 'storage.recovered');
  }

  /** A write failed with `err` (a better-sqlite3 SqliteError carries `code`, e.g. SQLITE_FULL). */
  failed(err: unknown): void {
    if (this.failing) {
      this.failing.failures++;
      return;
    }
    const code = typeof (err as { code?: unknown } | null)?.code === 'string' ? (err as { code: string }).code : 'unknown';
    this.failing = { code, sinceMs: this.now(), failures: 1 };
    this.deps.logger.error({ err, code }, 'storage.write-failed');
  }

  get writable(): boolean {
    return this.failing === null;
  }

  telemetry(): NonNullable<Telemetry['storage']> {
    const failing = this.failing;
    return failing
      ? { writable: false, error: failing.code, since: new Date(failing.sinceMs).toISOString(), failures: failing.failures }
      : { writable: true, error: null, since: null, failures: 0 };
  }

  private now(): number {
    return (this.deps.nowMs ?? Date.now)();
  }
}
