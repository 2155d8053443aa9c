import { defaultIngestClientId } from './ingestClientId.js';
import { connect as mqttConnect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { brokerForLogs } from '../../protocol/brokerUrl.js';
import type { Logger } from '../../protocol/logger.js';
import { refusedTopics } from '../../protocol/subscribeRefusal.js';
import type { Receipt } from '../../protocol/messages.js';
import { parseTopic, receiptsTopic, topicRoot } from '../../protocol/topics.js';
import type { BrokerMetrics } from '../mqtt/brokerMetrics.js';
import type { CentralStore } from '../store/centralStore.js';
import { defaultGroupMaxEvents, type GroupCommitterOptions } from './groupCommitter.js';
import { DeferredAcks } from './deferredAcks.js';
import { Ingestion, type IngestionDeps } from './ingestion.js';
import type { TopicIdentity } from './validate.js';

/**
 * Ingestion as an MQTT subscriber, for terminals that talk to a third-party broker
 * (Mosquitto, EMQX) instead of our aedes central (DESIGN.md "When one machine is not
 * enough": "a standalone worker subscribing over MQTT serves third-party brokers"). Every
 * message goes through the same `Ingestion` as inside the central; only the transport differs.
 *
 * What this does and does not guarantee:
 * - Worker side, exactly once in the store: the worker's own PUBACK to the broker is written
 *   only after the store commit, and the session is persistent (clean session 0, fixed
 *   client id), so messages that arrive while the worker is down wait in the broker, and a
 *   worker killed between receiving and committing gets them again on reconnect
 *   [MQTT-4.4.0-1]; the store dedupes by event id.
 * - Terminal side, a receipt: the broker PUBACKs the terminal's publish as soon as it has
 *   taken it, before this worker has even seen it, so that PUBACK says nothing about the
 *   store (DESIGN.md "A PUBACK is not a receipt"). After each commit the worker publishes a
 *   receipt on the terminal's `…/receipts` (protocol/messages.ts receiptSchema), for a batch
 *   stored before too. A terminal with `central.receipts` deletes outbox rows only on it, so
 *   whatever the broker loses (a restart without persistence, `max_queued_messages`
 *   exceeded — Mosquitto's default is 1000 messages per client, beyond which QoS 1 messages
 *   are DROPPED — or an expired session) is sent again. A terminal WITHOUT `central.receipts`
 *   behind this worker still drops rows on the broker's PUBACK and loses what the broker loses.
 * - The broker's ACL is the only thing tying a topic to its publisher: configure it so a
 *   terminal can publish under its own `cp/{code}/t/{terminal}/` only (ours does it in
 *   broker/auth/acl.ts). Connection events (`recordConnection`) are not visible from a
 *   subscriber; the retained status and its will carry online/offline instead.
 *
 * How the PUBACK waits for the commit. mqtt.js 5 honours `customHandleAcks` only with
 * `protocolVersion: 5` (build/lib/client.js: for any other version it is replaced by a
 * handler that acknowledges at once), and our stack speaks MQTT 3.1.1 (DESIGN.md "MQTT").
 * `handleMessage(packet, callback)` runs for every PUBLISH in both versions, before the
 * PUBACK; but mqtt.js hands over the next packet only once it is called back (client.js
 * `work`/`nextTickWork`), so holding the callback until the commit means one commit per
 * message. Measured through Mosquitto with 200 terminals sending one event per message, that
 * worker fell behind, Mosquitto's queue overflowed and 105,846 of 200,000 events were lost;
 * pipelined as below, 855 (bench e2e --burst 1; the rest is the queue limit, see above). So the worker calls back at once with an error, which is how
 * mqtt.js is told not to write a PUBACK (build/lib/handlers/publish.js: `if (err) return
 * done(err)`, the PUBACK only on the error-free path), and writes the PUBACK itself after the
 * commit (deferredAcks.ts). Messages arriving together are then committed together by the
 * group committer, up to the broker's in-flight window (Mosquitto `max_inflight_messages`,
 * default 20 unacknowledged messages per client: raise it for a busy worker).
 * test/broker/ingestion/mqttWorker.test.ts pins both mqtt.js behaviours this relies on.
 *
 * Lifecycle: the constructor stores its deps; `start()` connects and resolves once
 * subscribed (it keeps retrying, connection and refused SUBSCRIBE alike, until then); `stop()` lets the messages being committed
 * finish and be acknowledged, disconnects (the broker keeps the session), then stops the
 * ingestion. Both are safe to call twice. The store is the caller's to open and close.
 */

/** The three topics terminals publish on; QoS 1 so the broker keeps them for us. */
export const ingestFilters: readonly string[] = ['events', 'status', 'telemetry'].map((leaf) => `${topicRoot}/cp/+/t/+/${leaf}`);

export { defaultIngestClientId };

export interface MqttIngestionWorkerDeps {
  readonly store: IngestionDeps['store'];
  readonly metrics: BrokerMetrics;
  readonly logger: Logger;
  /** `mqtt://host:port` or `mqtts://host:port`, no credentials in it. */
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  /**
   * The broker keeps the session (subscriptions and queued messages) under this id: it must
   * be the same on every start, and unique per worker. Default `qrgate-ingest`.
   */
  readonly clientId?: string;
  /** Wait before reconnecting after a lost connection, ms. Default 1000. */
  readonly reconnectPeriodMs?: number;
  /** A refused SUBSCRIBE is retried after 1 s, doubling up to this, ms. Default 30000. */
  readonly subscribeRetryMaxMs?: number;
  /** How long `stop()` waits for the commit under way and the DISCONNECT, ms each. Default 5000. */
  readonly stopTimeoutMs?: number;
  /** Group commit of events; default: at once, up to defaultGroupMaxEvents. */
  readonly commit?: GroupCommitterOptions;
  /** Defaults to mqtt.js `connect`. */
  readonly connect?: (url: string, options: IClientOptions) => MqttClient;
}

export class WorkerStoppedError extends Error {
  readonly code = 'worker-stopped';
  constructor() {
    super('the ingestion worker was stopped');
    this.name = 'WorkerStoppedError';
  }
}

/**
 * Commit what has arrived as soon as the packets already read are handed over (a 0 ms timer
 * runs after them): waiting longer gains nothing, the broker sends no more than its
 * in-flight window until we acknowledge.
 */
const defaultCommit: GroupCommitterOptions = { maxDelayMs: 0, maxEvents: defaultGroupMaxEvents };

/** The callback error that tells mqtt.js to write no PUBACK: ours follows the commit. */
class AckDeferred extends Error {
  readonly code = 'ack-deferred';
}
const ackDeferred = new AckDeferred('acknowledged by the worker after the commit');

const defaultSubscribeRetryMaxMs = 30_000;

/** 1 s, 2 s, 4 s … up to `maxMs`: a refusal is an ACL to fix, not a blip to hammer. */
export function subscribeRetryMs(attempt: number, maxMs: number): number {
  return Math.min(maxMs, 1000 * 2 ** Math.min(attempt - 1, 20));
}

export class MqttIngestionWorker {
  private readonly ingestion: Ingestion;
  private readonly logger: Logger;
  private client: MqttClient | null = null;
  private starting: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  private running = false;
  /** Messages being handled: a stop lets them finish. */
  private readonly handling = new Set<Promise<void>>();
  private readonly acks = new DeferredAcks();
  private rejectStart: ((err: Error) => void) | null = null;
  private subscribeRetry: NodeJS.Timeout | undefined;

  constructor(private readonly deps: MqttIngestionWorkerDeps) {
    this.logger = deps.logger;
    this.ingestion = new Ingestion({
      store: deps.store,
      metrics: deps.metrics,
      logger: deps.logger,
      commit: deps.commit ?? defaultCommit,
      sendReceipt: (identity, receipt) => this.sendReceipt(identity, receipt),
    });
  }

  get clientId(): string {
    return this.deps.clientId ?? defaultIngestClientId;
  }

  /** Resolves once subscribed; rejects with WorkerStoppedError if stopped first. */
  start(): Promise<void> {
    if (this.stopping) return Promise.reject(new WorkerStoppedError());
    this.starting ??= new Promise<void>((resolve, reject) => {
      this.rejectStart = reject;
      this.running = true;
      this.open(resolve);
    });
    return this.starting;
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private open(subscribed: () => void): void {
    const { deps } = this;
    const client = (deps.connect ?? mqttConnect)(deps.url, {
      clientId: this.clientId,
      username: deps.username,
      password: deps.password,
      protocolVersion: 4, // MQTT 3.1.1, like everything else here (DESIGN.md "MQTT")
      // A persistent session: the broker queues QoS 1 messages while we are away and
      // re-sends the unacknowledged ones when we come back [MQTT-3.1.2-4, MQTT-4.4.0-1].
      clean: false,
      reconnectPeriod: deps.reconnectPeriodMs ?? 1000,
      // We subscribe ourselves, only when the broker has no session for us (see onConnect).
      resubscribe: false,
      keepalive: 30,
      // mqtt.js's debug output prints the CONNECT packet, password included.
      log: () => undefined,
    });
    this.client = client;
    client.handleMessage = (packet, callback) => this.onMessage(client, packet, callback);
    client.on('connect', (connack) => {
      this.logger.info({ broker: brokerForLogs(deps.url), clientId: this.clientId, sessionPresent: connack.sessionPresent }, 'ingest.connected');
      this.subscribe(client, 1, subscribed);
    });
    client.on('close', () => {
      // The next connection subscribes afresh; a retry meant for this one is moot.
      clearTimeout(this.subscribeRetry);
      if (this.running) this.logger.warn({ broker: brokerForLogs(deps.url) }, 'ingest.disconnected');
    });
    client.on('error', (err) => this.logger.warn({ reason: err.message }, 'ingest.connection-error'));
  }

  /**
   * Subscribes on every connection, present session or not, and retries a refusal until the
   * broker grants every filter: a worker that is connected but subscribed to nothing stores
   * nothing, silently. A present session is no proof: a broker may keep the session of a
   * SUBSCRIBE it refused (an ACL changed, then the process restarted), and one restarted
   * without persistence hands out a fresh one. Subscribing again makes the broker re-send its
   * retained statuses [MQTT-3.8.4-3]; they come flagged `retain` and are recorded as of the
   * time they state (ingestion.ts), so they are not taken for news.
   */
  private subscribe(client: MqttClient, attempt: number, subscribed: () => void): void {
    client.subscribe([...ingestFilters], { qos: 1 }, (err, granted, suback) => {
      if (!this.running || this.client !== client) return;
      const refused = refusedTopics(granted, suback);
      if (err || refused.length > 0) {
        // An error with no refusal in the SUBACK is a connection lost mid-SUBSCRIBE: the
        // next connection subscribes again.
        if (refused.length === 0 || !client.connected) return;
        const retryInMs = subscribeRetryMs(attempt, this.deps.subscribeRetryMaxMs ?? defaultSubscribeRetryMaxMs);
        this.logger.error({ refused, attempt, retryInMs }, 'ingest.subscribe-refused');
        this.subscribeRetry = setTimeout(() => this.subscribe(client, attempt + 1, subscribed), retryInMs);
        return;
      }
      this.logger.info({ filters: ingestFilters }, 'ingest.subscribed');
      subscribed();
    });
  }

  /**
   * Starts storing the message and hands mqtt.js the next packet at once. A QoS 1 message
   * is acknowledged by us once stored (see the top of this file); QoS 0 (telemetry) needs
   * no acknowledgement.
   */
  private onMessage(client: MqttClient, packet: IPublishPacket, callback: (error?: Error) => void): void {
    if (!this.running) {
      callback(new WorkerStoppedError()); // not acknowledged: the broker re-sends it next start
      return;
    }
    const stored = this.handle(packet);
    const settled = stored.catch(() => undefined);
    this.handling.add(settled);
    void settled.then(() => this.handling.delete(settled));
    if (packet.qos === 0 || packet.messageId === undefined) {
      callback();
      return;
    }
    callback(ackDeferred);
    const stream = client.stream; // the connection it came on: a PUBACK is only valid there
    this.acks.enqueue(stream, packet.messageId, stored, (err) => {
      // The store failed: no PUBACK, and that connection goes, because a broker re-sends an
      // unacknowledged message only on reconnect [MQTT-4.4.0-1]. mqtt.js reconnects.
      this.logger.error({ err, topic: packet.topic }, 'ingest.not-acknowledged');
      stream.destroy();
    });
  }

  /**
   * The receipt that makes this path safe (issue 15 point 1): the terminal's outbox lets the
   * events go on this, not on the broker's PUBACK. QoS 1 through the current client; if the
   * connection is down mqtt.js sends it on the next one, and if this process dies first the
   * terminal, which has no receipt, sends the batch again.
   */
  private sendReceipt(identity: TopicIdentity, receipt: Receipt): void {
    this.client?.publish(receiptsTopic(identity.checkpointCode, identity.terminalId), JSON.stringify(receipt), { qos: 1, retain: false }, (err) => {
      if (err) this.logger.debug({ reason: err.message, terminalId: identity.terminalId }, 'ingest.receipt-unsent');
    });
  }

  private async handle(packet: IPublishPacket): Promise<void> {
    const topic = parseTopic(packet.topic);
    switch (topic?.kind) {
      case 'events':
        await this.ingestion.events(topic, packet.payload);
        return;
      case 'status':
        // An empty retained publish deletes a retained status [MQTT-3.3.1-10]: not a message.
        if (packet.payload.length === 0) return;
        await this.ingestion.status(topic, packet.payload, { retainedCopy: packet.retain });
        return;
      case 'telemetry':
        await this.ingestion.telemetry(topic, packet.payload);
        return;
      default:
        // Our filters cannot match anything else; acknowledged so it does not come back.
        this.logger.debug({ topic: packet.topic }, 'ingest.unexpected-topic');
    }
  }

  private async shutdown(): Promise<void> {
    this.running = false;
    clearTimeout(this.subscribeRetry);
    this.rejectStart?.(new WorkerStoppedError());
    this.rejectStart = null;
    const client = this.client;
    if (client) {
      const timeoutMs = this.deps.stopTimeoutMs ?? 5000;
      // What is being committed gets its PUBACK before we say goodbye.
      await withinMs(
        Promise.allSettled([...this.handling]).then(() => this.acks.idle()),
        timeoutMs,
      );
      // DISCONNECT, not a cut: the broker keeps the session and queues for our next start.
      const ended = await withinMs(new Promise<void>((resolve) => client.end(false, {}, () => resolve())), timeoutMs);
      if (!ended) client.end(true);
      this.client = null;
    }
    await this.ingestion.stop();
    if (this.starting) this.logger.info({ clientId: this.clientId }, 'ingest.stopped');
  }
}

/** True if `work` settled within `ms`. The timer never outlives the wait. */
async function withinMs(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Ends the broker's persistent session for `clientId` (CONNECT with clean session 1, then
 * DISCONNECT [MQTT-3.1.2-6]): its subscriptions and queued messages are discarded. For a
 * worker retired for good, and for benchmarks and tests that must not leave a session
 * queuing `qrgate/#` traffic on a shared broker forever.
 */
export async function discardIngestSession(options: { readonly url: string; readonly clientId: string; readonly username?: string; readonly password?: string }): Promise<void> {
  const client = mqttConnect(options.url, {
    clientId: options.clientId,
    username: options.username,
    password: options.password,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    log: () => undefined,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
      client.once('close', () => reject(new Error(`no connection to ${brokerForLogs(options.url)}`)));
    });
  } finally {
    await client.endAsync(false).catch(() => undefined);
  }
}
