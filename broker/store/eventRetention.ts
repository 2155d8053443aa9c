import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../protocol/logger.js';
import type { CounterLike, GaugeLike, MetricsRegistryLike } from '../metricTypes.js';
import type { CentralStore } from './centralStore.js';

/**
 * Retention on a timer (issue 15 point 5, docs/security.md "How long scans are kept"): every
 * `intervalMs`, the events stamped more than `retentionDays` ago are deleted through
 * CentralStore.deleteEventsBefore, batch by batch.
 *
 * SQLite has one writer: in the central its store runs on a worker thread, so a batch holds up
 * every ingestion commit (and so every terminal's PUBACK) while it runs, as a group commit does
 * (~34 ms for 2,000 inserted rows, DESIGN.md). So a pass never runs one long transaction: each batch aims at `targetBatchMs` (its size
 * adapts to what the last one took, since the machine's load and the table's shape move it),
 * and the pass sleeps `pauseMs` between batches, during which ingestion's commits and every
 * connection's packets run. A first pass on a year of events then takes minutes, not a stall.
 * The pause is long beside the batch because of what the batch leaves behind: each deleted
 * row rewrites ~3 random pages into the WAL (its person's page of events_credential among
 * them), and with 10 ms pauses retention wrote ~30,000 WAL pages a second at 1 M events,
 * whose checkpoints then held ingestion's commits up to 90 ms; at 40 ms, under 55 ms
 * (docs/benchmarks.md, "The WAL that never started again").
 *
 * Lifecycle: the constructor keeps its arguments; start() runs a first pass at once (a central
 * restarted after days catches up at start) and then one per interval; stop() is safe twice,
 * ends a running pass between two batches and resolves once it has.
 */

export interface EventRetentionOptions {
  /** Events stamped before now minus this many days are deleted. */
  readonly retentionDays: number;
  /** Between the end of one pass and the start of the next, ms. Default one hour. */
  readonly intervalMs?: number;
  /**
   * The batch duration aimed at, ms, and the time budget each batch is given (a store with one
   * writer stops a batch there). Default 15: well under the 50 ms stall the issue allows.
   */
  readonly targetBatchMs?: number;
  /** Sleep between batches, ms. Default 40: retention gets about a quarter of the store's time. */
  readonly pauseMs?: number;
  /** Rows in the first batch of a pass. Default 500 (about 10 ms of CPU here); then adapted between 100 and 10,000. */
  readonly initialBatchRows?: number;
}

export interface EventRetentionDeps {
  readonly store: Pick<CentralStore, 'deleteEventsBefore'>;
  readonly logger: Logger;
  readonly metrics?: RetentionMetrics;
  /** Default Date.now. */
  readonly nowMs?: () => number;
}

export interface RetentionPass {
  readonly cutoffMs: number;
  readonly events: number;
  readonly batches: number;
  readonly ms: number;
  /** The longest single batch, ms: the longest the pass held the event loop at once. */
  readonly longestBatchMs: number;
  /** Stopped before it was done. */
  readonly interrupted: boolean;
}

export interface RetentionMetrics {
  readonly deletedEvents: CounterLike;
  readonly longestBatchSeconds: GaugeLike;
}

export function createRetentionMetrics(registry: MetricsRegistryLike): RetentionMetrics {
  return {
    deletedEvents: registry.counter('qrgate_retention_deleted_events_total', 'scan events deleted by retention (store.retentionDays)'),
    longestBatchSeconds: registry.gauge('qrgate_retention_longest_batch_seconds', 'the longest retention batch of the last pass: how long it held the store'),
  };
}

export const dayMs = 86_400_000;
const minBatchRows = 100;
const maxBatchRows = 10_000;

export class EventRetention {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RetentionPass> | null = null;
  private stopped = false;

  constructor(
    private readonly options: EventRetentionOptions,
    private readonly deps: EventRetentionDeps,
  ) {}

  start(): void {
    if (this.timer !== null || this.running !== null || this.stopped) return;
    this.deps.logger.info({ retentionDays: this.options.retentionDays, intervalMs: this.intervalMs() }, 'store.retention-started');
    this.runAndReschedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** One pass now, up to the cutoff of this moment; also what the timer runs. */
  runOnce(): Promise<RetentionPass> {
    this.running ??= this.pass().finally(() => (this.running = null));
    return this.running;
  }

  private runAndReschedule(): void {
    this.runOnce()
      .catch((err: unknown) => this.deps.logger.error({ err }, 'store.retention-failed'))
      .finally(() => {
        if (!this.stopped) this.timer = setTimeout(() => this.runAndReschedule(), this.intervalMs()).unref();
      });
  }

  private intervalMs(): number {
    return this.options.intervalMs ?? 3_600_000;
  }

  private async pass(): Promise<RetentionPass> {
    const { store, logger, metrics } = this.deps;
    const targetMs = this.options.targetBatchMs ?? 15;
    const pauseMs = this.options.pauseMs ?? 40;
    const started = performance.now();
    const cutoffMs = (this.deps.nowMs ?? Date.now)() - this.options.retentionDays * dayMs;
    let rows = this.options.initialBatchRows ?? 500;
    let events = 0;
    let batches = 0;
    let longestBatchMs = 0;
    let done = false;
    while (!this.stopped) {
      const batchStarted = performance.now();
      const batch = await store.deleteEventsBefore(cutoffMs, rows, targetMs);
      const ms = performance.now() - batchStarted;
      batches++;
      events += batch.events;
      longestBatchMs = Math.max(longestBatchMs, ms);
      metrics?.deletedEvents.inc(batch.events);
      logger.debug({ events: batch.events, rows, ms: Math.round(ms * 10) / 10 }, 'store.retention-batch');
      if (batch.done) {
        done = true;
        break;
      }
      // A call that deleted nothing and is not done was told to wait (a store's WAL behind its
      // checkpoints, sqliteRetention.ts): its time says nothing about the next batch's size.
      if (batch.events > 0) rows = nextBatchRows(rows, ms, targetMs);
      await sleep(pauseMs);
    }
    const result: RetentionPass = { cutoffMs, events, batches, ms: Math.round(performance.now() - started), longestBatchMs: Math.round(longestBatchMs * 10) / 10, interrupted: !done };
    metrics?.longestBatchSeconds.set(longestBatchMs / 1000);
    // One line a pass (an hour): retention is alive, and how long it held the store.
    logger.info({ ...result, cutoff: new Date(cutoffMs).toISOString() }, 'store.retention-pass');
    return result;
  }
}

/**
 * The next batch's size from how long this one took: halve when over the target (a loaded
 * machine, a cold cache), grow by a quarter when well under, within [100, 10,000] rows.
 */
export function nextBatchRows(rows: number, tookMs: number, targetMs: number): number {
  if (tookMs > targetMs) return Math.max(minBatchRows, Math.floor(rows / 2));
  if (tookMs < targetMs / 2) return Math.min(maxBatchRows, Math.ceil(rows * 1.25));
  return rows;
}
