import { connect as mqttConnect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { brokerForLogs } from '../../protocol/brokerUrl.js';
import { subscribeRefused } from '../../protocol/subscribeRefusal.js';
import { commandFilter, receiptsTopic, terminalTopic } from '../../protocol/topics.js';
import type { TerminalClock } from '../clock.js';
import type { ListCache } from '../listCache.js';
import type { ListSync, SyncLink } from '../listSync/listSync.js';
import type { Outbox } from '../outbox.js';
import type { PendingBoard } from '../pendingBoard.js';
import { receiptSchema, type CommandAck, type PendingMessage } from '../../protocol/messages.js';
import type { StorageHealth } from '../storageHealth.js';
import { Backoff, stableConnectionMs } from './backoff.js';
import { BatchWindow } from './batchWindow.js';
import { buildClientOptions } from './clientOptions.js';
import { systemdClockSynced } from './clockSync.js';
import { CommandHandler } from './commandHandler.js';
import type { CommandMemory } from './commandMemory.js';
import { brokerUrls, type UplinkConfig } from './config.js';
import type { UplinkLane } from './lanes.js';
import { statusPayload } from './payloads.js';
import { buildTelemetry, type TelemetrySources } from './telemetry.js';

export interface UplinkDeps {
  readonly config: UplinkConfig;
  readonly terminalId: string;
  readonly checkpointCode: string;
  readonly bootId: string;
  readonly outbox: Outbox;
  readonly clock: TerminalClock;
  readonly lists: ListCache;
  /** The terminal's list scopes, for telemetry. */
  readonly scopes: readonly string[];
  /** In config order: `open` without a lane opens the first. */
  readonly lanes: readonly UplinkLane[];
  /** The storage alarm, reported in telemetry. */
  readonly storage?: StorageHealth;
  /** The scans held for an operator, told to the central as they come and go (`…/pending`). */
  readonly pendingBoard?: PendingBoard;
  /** The commands run, by id, so a copy is not run twice (commandMemory.ts); in memory without it. */
  readonly commandMemory?: CommandMemory;
  /** Keeps the lists current over this connection; none in tests that do not need it. */
  readonly listSync?: ListSync;
  readonly logger: Logger;
  /** Defaults to mqtt.js `connect`. */
  readonly connect?: (url: string, options: IClientOptions) => MqttClient;
  /** Defaults to systemd-timesyncd's flag file (gateway/uplink/clockSync.ts). */
  readonly clockSynced?: () => boolean | null;
  /** Defaults to the process's uptime. */
  readonly uptimeS?: () => number;
  /** Jitter source for the reconnect backoff; defaults to Math.random. */
  readonly random?: () => number;
  /** A connection up this long resets the backoff. Default 10 s. */
  readonly stableConnectionMs?: number;
  /** How long a stop waits for the broker (offline status PUBACK, then DISCONNECT). Default 2 s each. */
  readonly stopTimeoutMs?: number;
}

const STOP_TIMEOUT_MS = 2_000;

/**
 * The terminal's MQTT uplink (DESIGN.md "MQTT", "Scan event"). It never blocks the terminal:
 * `start()` returns at once and the gate decides offline from its first second; events wait
 * in the SQLite outbox and drain on every connect, in batches, a bounded window at a time.
 *
 * Reconnects are ours, not mqtt.js's. mqtt.js's `reconnectPeriod` is one fixed interval
 * (no growth, no jitter), and its auto-reconnect keeps the in-memory outgoing store: it
 * would replay its own copy of the in-flight batches while our drain sends them again from
 * SQLite, and the publish callbacks of a dead connection may never fire (MQTT.js #765,
 * #952), which also stalls a graceful `end()`. So each attempt gets a fresh client with
 * `reconnectPeriod: 0` and a clean session; when it closes, its window is dropped, and the
 * next attempt is scheduled with capped, jittered exponential backoff (gateway/uplink/backoff.ts).
 * Nothing outlives a connection except the outbox, which is the point.
 */
export class Uplink {
  private readonly backoff: Backoff;
  private readonly commands: CommandHandler;
  private readonly telemetry: TelemetrySources;
  private readonly eventsTopic: string;
  private readonly statusTopic: string;
  private readonly pendingTopic: string;
  private readonly commandAcksTopic: string;
  private readonly receiptsTopic: string;
  /** Receipts that failed receiptSchema: counted and dropped. */
  private malformedReceiptCount = 0;
  /** Pending-scan messages from the scan path, published right after it (schedulePending). */
  private pendingQueue: PendingMessage[] = [];
  private pendingImmediate: NodeJS.Immediate | null = null;
  private unsubscribePending: (() => void) | null = null;
  /** The brokers to try (`central.urls`, or the one `url`), and the one the next attempt uses. */
  private readonly urls: readonly string[];
  private urlIndex: number;
  private started = false;
  private running = false;
  private stopping: Promise<void> | null = null;
  private client: MqttClient | null = null;
  private window: BatchWindow | null = null;
  private connectedAtMs: number | null = null;
  private lastError: string | null = null;
  private failedAttempts = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private telemetryTimer: NodeJS.Timeout | null = null;
  private pumpImmediate: NodeJS.Immediate | null = null;
  private unsubscribeOutbox: (() => void) | null = null;
  /** Events acknowledged since the outbox was last empty, for `uplink.drained`. */
  private ackedSinceEmpty = 0;
  private backlog = false;

  constructor(private readonly deps: UplinkDeps) {
    const { config } = deps;
    this.backoff = new Backoff({
      minMs: config.reconnectMinMs,
      maxMs: config.reconnectMaxMs,
      stableMs: deps.stableConnectionMs ?? stableConnectionMs,
      random: deps.random,
    });
    this.eventsTopic = terminalTopic(deps.checkpointCode, deps.terminalId, 'events');
    this.statusTopic = terminalTopic(deps.checkpointCode, deps.terminalId, 'status');
    this.pendingTopic = terminalTopic(deps.checkpointCode, deps.terminalId, 'pending');
    this.commandAcksTopic = terminalTopic(deps.checkpointCode, deps.terminalId, 'cmd-acks');
    this.receiptsTopic = receiptsTopic(deps.checkpointCode, deps.terminalId);
    this.urls = brokerUrls(config);
    // Each terminal starts at its own place in the list (its id's hash), so a fleet given the
    // same list spreads over the nodes instead of all knocking at the first.
    this.urlIndex = startingIndex(deps.terminalId, this.urls.length);
    this.telemetry = {
      bootId: deps.bootId,
      clock: deps.clock,
      lists: deps.lists,
      scopes: deps.scopes,
      outbox: deps.outbox,
      lanes: deps.lanes,
      uptimeS: deps.uptimeS ?? process.uptime,
      clockSynced: deps.clockSynced ?? (() => systemdClockSynced()),
      ...(deps.storage ? { storage: deps.storage } : {}),
    };
    this.commands = new CommandHandler({
      checkpointCode: deps.checkpointCode,
      terminalId: deps.terminalId,
      clock: deps.clock,
      lanes: deps.lanes,
      publishTelemetry: () => this.publishTelemetry(),
      syncLists: () => deps.listSync?.resync(),
      publishAck: (ack) => this.publishCommandAck(ack),
      ...(deps.commandMemory ? { memory: deps.commandMemory } : {}),
      logger: deps.logger,
    });
  }

  /** The broker this attempt uses, or the connection is on. */
  private get url(): string {
    return this.urls[this.urlIndex]!;
  }

  /** The broker in use, for logs: scheme, host and port. */
  get broker(): string {
    return brokerForLogs(this.url);
  }

  get connected(): boolean {
    return this.connectedAtMs !== null;
  }

  /** Events published and not yet acknowledged (with `central.receipts`: not yet receipted). */
  get inFlight(): number {
    return this.window?.inFlightEvents ?? 0;
  }

  /** Receipts received that were not a valid receiptSchema payload, since start. */
  get malformedReceipts(): number {
    return this.malformedReceiptCount;
  }

  /** Starts connecting in the background; never waits for the network. One life: start, then stop. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.running = true;
    this.unsubscribeOutbox = this.deps.outbox.onReady(() => this.schedulePump());
    this.unsubscribePending = this.deps.pendingBoard?.onChange((message) => this.schedulePending(message)) ?? null;
    this.telemetryTimer = setInterval(() => this.publishTelemetry(), this.deps.config.telemetryIntervalMs);
    this.attempt();
  }

  /** Safe to call twice. Publishes a clean offline status when connected, then disconnects. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /** A heartbeat now (telemetrySchema, QoS 0, not retained); false when not connected. */
  publishTelemetry(): boolean {
    const client = this.client;
    if (!client || !this.connected || !this.running) return false;
    try {
      const payload = JSON.stringify(buildTelemetry(this.telemetry, this.inFlight));
      client.publish(terminalTopic(this.deps.checkpointCode, this.deps.terminalId, 'telemetry'), payload, { qos: 0, retain: false });
      return true;
    } catch (err) {
      this.deps.logger.error({ err }, 'uplink.telemetry-failed');
      return false;
    }
  }

  /**
   * QoS 1, fire and forget, on the connection the command came in on. Not kept in the
   * outbox: an ack lost with its connection is made good by the central sending the
   * command again, which this terminal answers from memory without running it twice.
   */
  private publishCommandAck(ack: CommandAck): void {
    const client = this.client;
    if (!client || !this.connected) return;
    client.publish(this.commandAcksTopic, JSON.stringify(ack), { qos: 1, retain: false }, (err) => {
      if (err) this.deps.logger.debug({ reason: err.message, id: ack.id }, 'command.ack-unsent');
    });
  }

  private attempt(): void {
    this.reconnectTimer = null;
    if (!this.running) return;
    const { config } = this.deps;
    let client: MqttClient;
    try {
      const options = buildClientOptions(config, {
        terminalId: this.deps.terminalId,
        statusTopic: this.statusTopic,
        willPayload: statusPayload('offline', this.deps.bootId, this.deps.clock.now().ms),
      });
      client = (this.deps.connect ?? mqttConnect)(this.url, options);
    } catch (err) {
      // e.g. an unreadable TLS file: this attempt fails, the terminal goes on deciding offline
      this.attemptFailed(err instanceof Error ? err.message : String(err));
      return;
    }
    this.client = client;
    this.lastError = null;
    // Every handler checks it still belongs to the current client: a dead client's late
    // events must not touch the next connection's state. The error listener stays for
    // good, so a late error from a dead client is never an unhandled 'error' event.
    client.on('error', (err) => {
      if (this.client === client) this.lastError = err.message;
    });
    client.on('connect', () => this.guard('uplink.connect-failed', () => this.onConnect(client)));
    client.on('close', () => this.guard('uplink.close-failed', () => this.onClose(client)));
    client.on('message', (topic, payload, packet) => {
      if (this.client !== client) return;
      if (topic === this.receiptsTopic) return this.guard('uplink.receipt-failed', () => this.onReceipt(payload));
      if (this.deps.listSync?.handle(topic, payload)) return;
      this.guard('command.failed', () => this.commands.handle({ topic, payload, retain: packet.retain }));
    });
  }

  private onConnect(client: MqttClient): void {
    if (this.client !== client || !this.running) return;
    this.connectedAtMs = performance.now();
    this.failedAttempts = 0;
    const { logger, config } = this.deps;
    logger.info({ broker: this.broker, outboxDepth: this.deps.outbox.depth() }, 'uplink.connected');
    client.publish(this.statusTopic, statusPayload('online', this.deps.bootId, this.deps.clock.now().ms), { qos: 1, retain: true });
    client.subscribe(commandFilter(this.deps.checkpointCode, this.deps.terminalId), { qos: 1 }, (err, granted) => {
      if (subscribeRefused(err, granted)) {
        logger.warn({ reason: err?.message ?? 'refused by the broker' }, 'uplink.subscribe-failed');
      }
    });
    if (!this.deps.outbox.isEmpty()) this.backlog = true;
    this.publishTelemetry();
    // What is pending now, again: the central may have restarted, or missed it while we were away.
    for (const held of this.deps.pendingBoard?.current() ?? []) this.publishPending(client, held);
    if (config.receipts) this.subscribeReceipts(client);
    else this.openWindow(client);
    this.deps.listSync?.attach(this.syncLink(client));
  }

  /** The send window of this connection; it starts sending what the outbox holds at once. */
  private openWindow(client: MqttClient): void {
    const { config, logger } = this.deps;
    this.window = new BatchWindow({
      outbox: this.deps.outbox,
      batchSize: config.batchSize,
      maxInFlight: config.maxInFlightBatches,
      publish: (payload, done) => client.publish(this.eventsTopic, payload, { qos: 1, retain: false }, (err) => done(err)),
      onAcked: (events) => this.onAcked(events),
      onRemoveFailed: (err) => this.onRemoveFailed(client, err),
      ...(config.receipts
        ? {
            receipts: {
              timeoutMs: config.receiptTimeoutMs,
              // A gap is the broker dropping a batch (a full queue): expected under a backlog, not an alarm.
              onResend: (why: 'overdue' | 'gap', events: number) =>
                why === 'overdue' ? logger.warn({ events, timeoutMs: config.receiptTimeoutMs }, 'uplink.receipts-overdue') : logger.info({ events }, 'uplink.receipts-gap'),
            },
          }
        : {}),
    });
    this.window.pump();
  }

  /**
   * With `central.receipts` nothing is sent before the receipts subscription holds: a batch
   * stored while we were not yet subscribed would get a receipt we never see, and wait for
   * the timeout. Refused (a broker whose ACL lacks the topic, a central from before receipts),
   * nothing is sent: the events stay safe in the outbox, the error says why, and the
   * connection is dropped so the usual backoff tries again (an ACL fixed meanwhile is picked up).
   */
  private subscribeReceipts(client: MqttClient): void {
    client.subscribe(this.receiptsTopic, { qos: 1 }, (err, granted) => {
      if (this.client !== client || !this.running) return;
      if (subscribeRefused(err, granted)) {
        if (!client.connected) return; // the connection went first; the next one subscribes again
        this.deps.logger.error({ reason: err?.message ?? 'refused by the broker' }, 'uplink.receipts-refused');
        setImmediate(() => {
          if (this.client === client) client.end(true);
        });
        return;
      }
      this.openWindow(client);
    });
  }

  /** A receipt from the central (protocol/messages.ts receiptSchema); a bad one is counted and dropped. */
  private onReceipt(payload: Buffer): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const receipt = receiptSchema.safeParse(parsed);
    if (!receipt.success) {
      this.malformedReceiptCount++;
      // The first one is worth a warning; a broken sender repeating it is not worth a flood.
      this.deps.logger[this.malformedReceiptCount === 1 ? 'warn' : 'debug']({ count: this.malformedReceiptCount }, 'uplink.receipt-malformed');
      return;
    }
    this.window?.receipt(receipt.data.seqs);
  }

  private syncLink(client: MqttClient): SyncLink {
    const { logger } = this.deps;
    return {
      subscribe: (topics) =>
        client.subscribe([...topics], { qos: 1 }, (err, granted) => {
          if (subscribeRefused(err, granted)) {
            logger.warn({ topics: topics.length, reason: err?.message ?? 'refused by the broker' }, 'lists.subscribe-failed');
          }
        }),
      unsubscribe: (topics) => {
        client.unsubscribe([...topics]);
      },
    };
  }

  private onAcked(events: number): void {
    this.deps.logger.debug({ events }, 'uplink.batch-acked');
    this.ackedSinceEmpty += events;
    if (events >= this.deps.config.batchSize) this.backlog = true;
    if (!this.deps.outbox.isEmpty()) return;
    if (this.backlog) this.deps.logger.info({ count: this.ackedSinceEmpty }, 'uplink.drained');
    this.backlog = false;
    this.ackedSinceEmpty = 0;
  }

  /**
   * Acknowledged rows could not be deleted (a full disk). Drop this connection: the rows are
   * still in the outbox and the next connection, after the usual backoff, sends them again
   * and retries the delete; the central stores each event once whatever it receives twice.
   */
  private onRemoveFailed(client: MqttClient, err: unknown): void {
    this.deps.logger.error({ err }, 'uplink.outbox-remove-failed');
    // Not from inside mqtt.js's ack handler, which is where this is called from.
    setImmediate(() => {
      if (this.client === client) client.end(true);
    });
  }

  private onClose(client: MqttClient): void {
    if (this.client !== client) return;
    this.client = null;
    this.deps.listSync?.detach();
    this.window?.close();
    this.window = null;
    if (!this.running) {
      this.connectedAtMs = null; // closed by stop(), which logs `uplink.stopped`
      return;
    }
    const reason = this.lastError ?? 'connection closed';
    if (this.connectedAtMs !== null) {
      const upMs = Math.round(performance.now() - this.connectedAtMs);
      this.connectedAtMs = null;
      this.backoff.connectionEnded(upMs);
      this.deps.logger.warn({ broker: this.broker, reason, upMs }, 'uplink.disconnected');
      this.nextBroker();
      this.scheduleReconnect();
      return;
    }
    this.attemptFailed(reason);
  }

  private attemptFailed(reason: string): void {
    this.failedAttempts++;
    // The first failure of a streak is worth a warning; the next thousand offline are not.
    const level = this.failedAttempts === 1 ? 'warn' : 'debug';
    this.deps.logger[level]({ broker: this.broker, reason, attempt: this.failedAttempts }, 'uplink.connect-failed');
    this.nextBroker();
    if (this.running) this.scheduleReconnect();
  }

  /**
   * After a failed attempt or a lost connection, the next broker in the list: a node that
   * died is left at once, and the backoff's jittered wait still spaces the attempts, so a
   * fleet leaving a dead node does not land on the next one in the same millisecond.
   */
  private nextBroker(): void {
    this.urlIndex = (this.urlIndex + 1) % this.urls.length;
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer) return;
    const delayMs = this.backoff.next();
    this.deps.logger.debug({ delayMs, attempt: this.backoff.attempt, broker: this.broker }, 'uplink.reconnect-scheduled');
    this.reconnectTimer = setTimeout(() => this.guard('uplink.connect-failed', () => this.attempt()), delayMs);
  }

  /**
   * A pending scan or its end, told on the scan path: queued and published after it, QoS 1,
   * fire and forget. Offline, it is dropped: the gate's buttons and timeout still decide,
   * and what is still pending goes out on the next connect.
   */
  private schedulePending(message: PendingMessage): void {
    if (!this.connected) return;
    this.pendingQueue.push(message);
    this.pendingImmediate ??= setImmediate(() => {
      this.pendingImmediate = null;
      const client = this.client;
      const queued = this.pendingQueue.splice(0);
      if (!client || !this.connected) return;
      for (const message of queued) this.publishPending(client, message);
    });
  }

  private publishPending(client: MqttClient, message: PendingMessage): void {
    this.guard('uplink.pending-failed', () => {
      client.publish(this.pendingTopic, JSON.stringify(message), { qos: 1, retain: false }, (err) => {
        if (err) this.deps.logger.debug({ reason: err.message, pendingId: message.id }, 'uplink.pending-unsent');
      });
    });
  }

  /** Coalesces outbox notifications: they arrive on the scan path, the drain runs after it. */
  private schedulePump(): void {
    if (this.pumpImmediate || !this.window) return;
    this.pumpImmediate = setImmediate(() => {
      this.pumpImmediate = null;
      this.guard('uplink.drain-failed', () => this.window?.pump());
    });
  }

  /** Work triggered by timers and client events must never become an uncaught exception. */
  private guard(failure: string, work: () => void): void {
    try {
      work();
    } catch (err) {
      this.deps.logger.error({ err }, failure);
    }
  }

  private async shutdown(): Promise<void> {
    this.running = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.telemetryTimer) clearInterval(this.telemetryTimer);
    if (this.pumpImmediate) clearImmediate(this.pumpImmediate);
    if (this.pendingImmediate) clearImmediate(this.pendingImmediate);
    this.pendingImmediate = null;
    this.pendingQueue = [];
    this.unsubscribePending?.();
    this.unsubscribePending = null;
    this.reconnectTimer = null;
    this.telemetryTimer = null;
    this.pumpImmediate = null;
    this.unsubscribeOutbox?.();
    this.unsubscribeOutbox = null;
    const client = this.client;
    if (!client) return;
    // Acknowledgements still remove rows while we close; no new batch goes out.
    this.window?.pause();
    if (this.connected) await this.publishOffline(client);
    if (this.connected) {
      // A graceful end() waits for every unacknowledged publish (MQTT.js #952); those rows
      // are in SQLite and go out on the next boot, so let mqtt.js forget them.
      for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
      // DISCONNECT makes the broker discard the will [MQTT-3.1.2-10]: the offline status
      // just published stays, instead of the will's older one.
      await this.endClient(client);
    } else {
      client.end(true); // still connecting, or the link died while we said goodbye
    }
    this.client = null;
    this.window?.close();
    this.window = null;
    this.connectedAtMs = null;
    this.deps.logger.info('uplink.stopped');
  }

  private publishOffline(client: MqttClient): Promise<void> {
    const payload = statusPayload('offline', this.deps.bootId, this.deps.clock.now().ms);
    return this.settleWithin(client, (done) => client.publish(this.statusTopic, payload, { qos: 1, retain: true }, () => done()));
  }

  private endClient(client: MqttClient): Promise<void> {
    // A half-open link never confirms the close: cut it (the broker then sends the will).
    return this.settleWithin(client, (done) => client.end(false, () => done()), () => client.stream?.destroy());
  }

  /**
   * Runs `begin` and resolves when it reports done, when the connection closes (mqtt.js
   * may never call back for a dead link), or after the stop timeout: a stop always ends.
   */
  private settleWithin(client: MqttClient, begin: (done: () => void) => void, onTimeout?: () => void): Promise<void> {
    const timeoutMs = this.deps.stopTimeoutMs ?? STOP_TIMEOUT_MS;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.removeListener('close', finish);
        resolve();
      };
      const timer = setTimeout(() => {
        onTimeout?.();
        finish();
      }, timeoutMs);
      client.once('close', finish);
      begin(finish);
    });
  }
}

/** FNV-1a of the terminal id, modulo `count`: stable across restarts, spread across a fleet. */
function startingIndex(terminalId: string, count: number): number {
  if (count <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < terminalId.length; i++) hash = Math.imul(hash ^ terminalId.charCodeAt(i), 0x01000193) >>> 0;
  return hash % count;
}
