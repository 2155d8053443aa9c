import type { ScanEvent } from '../../protocol/event.js';
import type { Logger } from '../../protocol/logger.js';
import type { Receipt } from '../../protocol/messages.js';
import type { CentralStore } from '../store/centralStore.js';
import type { BrokerMetrics } from '../mqtt/brokerMetrics.js';
import { msToIso } from '../store/time.js';
import { FleetBatch } from './fleetBatch.js';
import { GroupCommitter, type GroupCommitterOptions } from './groupCommitter.js';
import type { LiveEvents } from './liveEvents.js';
import { validateEventBatch, validateStatus, validateTelemetry, type TopicIdentity } from './validate.js';

/**
 * What the central does with what terminals publish: scan events into the store exactly
 * once and before they are acknowledged; status and telemetry into the fleet view.
 * Called from `authorizePublish` (broker/auth/authorizePublish.ts), which turns the answers
 * into MQTT: `forward` lets aedes route the message, `drop` acknowledges it without
 * routing, a rejection withholds the acknowledgement and closes the connection.
 */

export type Routing = 'forward' | 'drop';

export type MessageKind = 'events' | 'status' | 'telemetry';

export interface IngestionDeps {
  readonly store: Pick<CentralStore, 'insertEvents' | 'recordFleet' | 'recordTelemetry'>;
  readonly metrics: BrokerMetrics;
  readonly logger: Logger;
  readonly commit: GroupCommitterOptions;
  readonly now?: () => number;
  /** Told of every event stored, once its commit is durable (the live in/out log). */
  readonly liveEvents?: LiveEvents;
  /**
   * Sends the terminal its receipt (`…/receipts`) once a batch is durable (issue 15 point 1).
   * Fire and forget: a receipt lost on the way costs the terminal a resend, never an event.
   */
  readonly sendReceipt?: (identity: TopicIdentity, receipt: Receipt) => void;
}

export class Ingestion {
  private readonly committer: GroupCommitter;
  private readonly fleet: FleetBatch;
  private readonly now: () => number;
  /** Fleet-view store writes under way; `stop()` waits for them before the store closes. */
  private readonly background = new Set<Promise<void>>();

  constructor(private readonly deps: IngestionDeps) {
    this.now = deps.now ?? Date.now;
    this.fleet = new FleetBatch(deps.store);
    const { metrics, logger } = deps;
    this.committer = new GroupCommitter(deps.commit, {
      insert: (events, receivedAtMs) => deps.store.insertEvents(events, receivedAtMs),
      now: this.now,
      onCommit: ({ stored, receivedAtMs, ...summary }) => {
        // Redeliveries are not in `stored`: a watcher sees each event once.
        if (deps.liveEvents !== undefined && deps.liveEvents.listenerCount > 0) {
          const receivedAt = msToIso(receivedAtMs);
          deps.liveEvents.publish(stored.map((event) => ({ ...event, receivedAt })));
        }
        metrics.commits.inc();
        metrics.eventsIngested.inc(summary.inserted);
        metrics.eventsDuplicate.inc(summary.duplicates);
        metrics.scans.count(stored);
        // The events themselves stay out of the log line: thousands of them, credential refs included.
        logger.debug(summary, 'ingest.committed');
      },
      onFailure: (err, events) => {
        metrics.commitFailures.inc();
        logger.error({ err, events }, 'ingest.commit-failed');
      },
    });
  }

  /**
   * Resolves once the batch is durable, or at once for a malformed batch. A malformed batch
   * is acknowledged and dropped rather than refused: refusing it would make the terminal
   * reconnect and send the same bytes again, forever, while the good events queued behind
   * it in its outbox wait. It is counted and logged so the broken terminal gets noticed.
   * Rejects when the store fails, so the batch is not acknowledged and comes back.
   */
  async events(identity: TopicIdentity, payload: Buffer | string): Promise<Routing> {
    const batch = validateEventBatch(payload, identity);
    if (!batch.ok) {
      this.malformed('events', identity.terminalId, batch.reason);
      return 'drop';
    }
    this.deps.logger.debug({ terminalId: identity.terminalId, events: batch.value.length }, 'ingest.batch-queued');
    await this.committer.submit(batch.value);
    this.receipt(identity, batch.value);
    // Stored: nobody needs the message routed (DESIGN.md keeps the broker light).
    return 'drop';
  }

  /**
   * Retained status. `offlineOnly` is for a will published with no client attached (aedes
   * passes `client === null` for wills it restores), where only the offline status a
   * terminal's will carries is believable. `retainedCopy` is for the broker's stored copy,
   * re-sent because we subscribed [MQTT-3.3.1-8] rather than published just now: it is
   * recorded as of the time it states (never later than now), so a copy retained weeks ago
   * does not pass for news nor override what the store learnt since.
   */
  async status(
    identity: TopicIdentity,
    payload: Buffer | string,
    options: { readonly offlineOnly?: boolean; readonly retainedCopy?: boolean } = {},
  ): Promise<Routing> {
    const status = validateStatus(payload);
    if (!status.ok || (options.offlineOnly && status.value.state !== 'offline')) {
      this.malformed('status', identity.terminalId, status.ok ? 'a will without its client must say offline' : status.reason);
      return 'drop';
    }
    const nowMs = this.now();
    const atMs = options.retainedCopy ? Math.min(nowMs, Date.parse(status.value.at)) : nowMs;
    await this.record('status', () => this.fleet.add({ kind: 'status', terminalId: identity.terminalId, status: status.value, atMs }), identity.terminalId);
    return 'forward';
  }

  async telemetry(identity: TopicIdentity, payload: Buffer | string): Promise<Routing> {
    const telemetry = validateTelemetry(payload);
    if (!telemetry.ok) {
      this.malformed('telemetry', identity.terminalId, telemetry.reason);
      return 'drop';
    }
    await this.record('telemetry', () => this.deps.store.recordTelemetry(identity.terminalId, telemetry.value, this.now()), identity.terminalId);
    return 'forward';
  }

  /** A terminal's connection opened or closed; recorded without holding anything up. */
  connection(terminalId: string, online: boolean): void {
    const atMs = this.now();
    void this.record('connection', () => this.fleet.add({ kind: 'connection', terminalId, online, atMs }), terminalId);
  }

  /** Commits the events waiting now; their publishes are acknowledged once it is done. */
  flush(): Promise<void> {
    return this.committer.flush();
  }

  /** Commits what waits, refuses new batches, then waits for background writes. Safe to call twice. */
  async stop(): Promise<void> {
    await this.committer.stop();
    await Promise.allSettled([...this.background]);
  }

  /**
   * Fleet-view writes: a failure is logged, never turned into a refused message. Status is
   * repeated on every connect and telemetry every interval, so the next one repairs it.
   */
  private record(kind: string, write: () => Promise<void>, terminalId: string): Promise<void> {
    const work = Promise.resolve()
      .then(write)
      .catch((err: unknown) => {
        this.deps.logger.error({ err, terminalId, kind }, 'ingest.record-failed');
      });
    this.background.add(work);
    void work.finally(() => this.background.delete(work));
    return work;
  }

  /** Every event of the batch is in the store now, those received before included. */
  private receipt(identity: TopicIdentity, events: readonly ScanEvent[]): void {
    if (this.deps.sendReceipt === undefined) return;
    try {
      this.deps.sendReceipt(identity, { v: 1, seqs: events.map((event) => event.seq) });
    } catch (err) {
      // The events are stored whatever happens to their receipt: the terminal resends, we dedupe.
      this.deps.logger.warn({ err, terminalId: identity.terminalId }, 'ingest.receipt-failed');
    }
  }

  private malformed(kind: MessageKind, terminalId: string, reason: string): void {
    this.deps.metrics.malformed.inc();
    this.deps.logger.warn({ terminalId, kind, reason }, 'ingest.malformed');
  }
}
