import type { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type Client } from 'aedes';
import type { EnrollmentQr } from '../../protocol/enrollment.js';
import type { Logger } from '../../protocol/logger.js';
import type { Receipt } from '../../protocol/messages.js';
import { enrollResultTopic, receiptsTopic, terminalPrefix } from '../../protocol/topics.js';
import { createAuthenticate, createPreConnect } from '../auth/authenticate.js';
import { FailureThrottle } from '../auth/failureThrottle.js';
import { SharedFailureCounts } from '../auth/sharedFailureCounts.js';
import { createAuthorizePublish } from '../auth/authorizePublish.js';
import { createAuthorizeSubscribe } from '../auth/authorizeSubscribe.js';
import { RegistrySnapshot } from '../auth/registrySnapshot.js';
import { RevocationWatcher } from '../auth/revocationWatcher.js';
import { Sessions } from '../auth/sessions.js';
import type { CentralConfig, CentralMqttConfig, ClusterConfig } from '../config.js';
import type { CommandAcks } from '../commands/commandAcks.js';
import type { EnrollmentDesk } from '../enrollment/enrollmentDesk.js';
import type { PendingScans } from '../guard/pendingScans.js';
import { Ingestion } from '../ingestion/ingestion.js';
import type { LiveEvents } from '../ingestion/liveEvents.js';
import type { TopicIdentity } from '../ingestion/validate.js';
import type { CentralStore } from '../store/centralStore.js';
import { AckOrder } from './ackOrder.js';
import { brokerPublish } from './brokerPublish.js';
import type { BrokerMetrics } from './brokerMetrics.js';
import { aedesLimits, tcpKeepAliveDelayMs } from './limits.js';
import { ConnectionTally } from './connectionTally.js';
import { publishLeftoverWills } from './leftoverWills.js';
import { closeServer, listen } from './listen.js';
import { guardConnection } from './packetSizeGuard.js';
import { printable } from './printable.js';
import type { RedisBackplane } from './redisBackplane.js';
import { RetainedIndexPersistence } from './retainedIndexPersistence.js';
import { TerminalHolders } from './terminalHolders.js';

/**
 * The central's MQTT side: aedes 1.x with our hooks (broker/auth), ingestion behind
 * `authorizePublish`, a TCP listener and an optional TLS listener, every connection behind
 * the packet size guard. No WebSocket listener: aedes needs a WebSocket server package for
 * it and terminals speak plain MQTT over TCP/TLS.
 *
 * Lifecycle: the constructor only stores its arguments; `start()` opens everything and
 * resolves with the bound ports; `stop()` closes in reverse and is safe to call twice.
 */

export interface MqttBrokerOptions {
  readonly mqtt: CentralMqttConfig;
  readonly ingest: CentralConfig['ingest'];
  readonly lab: boolean;
  /** One node of several sharing Redis (broker/mqtt/redisBackplane.ts); without it, a broker alone in memory. */
  readonly cluster?: ClusterConfig;
}

export interface MqttBrokerDeps {
  readonly store: CentralStore;
  readonly metrics: BrokerMetrics;
  readonly logger: Logger;
  /** Answers devices enrolling by QR; without it, `$enroll` logins are refused. */
  readonly enrollment?: EnrollmentDesk;
  /** Where terminals' `…/pending` messages go (broker/guard); without it they are dropped. */
  readonly pendingScans?: PendingScans;
  /** Told of each event once stored, for the live in/out log (the HTTP API's). */
  readonly liveEvents?: LiveEvents;
  /** Records terminals' `…/cmd-acks` on the queued commands (broker/commands). */
  readonly commandAcks?: CommandAcks;
  /** A terminal subscribed to its commands: what is queued for it can go out now (broker/commands/commandDelivery.ts). */
  readonly onCommandSubscriber?: (terminalId: string) => void;
}

/**
 * An enrolling device needs one request and one answer; a connection still open after this
 * long is closed, so a login with a well-formed but worthless QR cannot squat a connection.
 */
const enrollSessionMs = 60_000;

/** How long a stop waits for aedes to close over Redis before the connections are cut. */
const closeBackplaneMs = 5_000;

export interface MqttPorts {
  readonly port: number;
  /** Only with `mqtt.tls` configured. */
  readonly tlsPort?: number;
}

export class TlsFilesError extends Error {
  readonly code = 'tls-files-unreadable';
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(message);
    this.name = 'TlsFilesError';
  }
}

function readPem(path: string, setting: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsFilesError(setting, `${setting} ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export class MqttBroker {
  private aedes: Aedes | null = null;
  private ingestion: Ingestion | null = null;
  private revocations: RevocationWatcher | null = null;
  private tally: ConnectionTally | null = null;
  /** Clients past CONNACK and not yet disconnected, for the revocation watcher. */
  private readonly connected = new Set<Client>();
  /** Each terminal's connection that subscribed to its own commands, by terminal id. */
  private readonly commandSubscribers = new Map<string, Client>();
  private servers: Server[] = [];
  /** Open sockets, including those that never sent CONNECT (aedes only closes clients it registered). */
  private readonly sockets = new Set<Socket>();
  private throttle: FailureThrottle | null = null;
  private sessions: Sessions | null = null;
  private backplane: RedisBackplane | null = null;
  private holdersOf: TerminalHolders | null = null;
  private stopping: Promise<void> | null = null;
  private readonly logger: Logger;

  constructor(
    private readonly options: MqttBrokerOptions,
    private readonly deps: MqttBrokerDeps,
  ) {
    this.logger = deps.logger;
  }

  /** The running aedes instance, for the central's own publishes (commands, lists). */
  get broker(): Aedes | null {
    return this.aedes;
  }

  /** In a cluster, which node holds each terminal (the fleet's `node`); null alone. */
  get holders(): TerminalHolders | null {
    return this.holdersOf;
  }

  /** Whether the terminal is connected to this broker now: a command to it would reach it. */
  terminalConnected(terminalId: string): boolean {
    const sessions = this.sessions;
    if (!sessions) return false;
    for (const client of this.connected) if (sessions.terminalId(client) === terminalId) return true;
    return false;
  }

  /**
   * The terminal's connection to this broker that has subscribed to its commands, or null:
   * a command published before the SUBSCRIBE would reach no one (clean sessions).
   */
  commandSubscriber(terminalId: string): Client | null {
    return this.commandSubscribers.get(terminalId) ?? null;
  }

  async start(): Promise<MqttPorts> {
    if (this.aedes) throw new Error('MqttBroker.start: already started');
    try {
      return await this.open();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async open(): Promise<MqttPorts> {
    const { mqtt, lab, ingest } = this.options;
    const { store, metrics, logger } = this.deps;
    // Read TLS files before opening anything: a typo in a path fails the start cleanly.
    const tlsFiles = mqtt.tls ? { cert: readPem(mqtt.tls.cert, 'mqtt.tls.cert'), key: readPem(mqtt.tls.key, 'mqtt.tls.key') } : null;

    const sessions = new Sessions();
    this.sessions = sessions;
    const ingestion = new Ingestion({
      store,
      metrics,
      logger: logger.child({ component: 'ingest' }),
      commit: { maxDelayMs: ingest.commitDelayMs, maxEvents: ingest.commitMaxEvents },
      ...(this.deps.liveEvents ? { liveEvents: this.deps.liveEvents } : {}),
      sendReceipt: (identity, receipt) => this.sendReceipt(identity, receipt),
    });
    this.ingestion = ingestion;
    const cluster = this.options.cluster;
    // In a cluster retained messages, subscriptions and wills live in Redis, shared by every
    // node; alone, in memory, with retained messages in our topic tree (a retained status
    // per terminal: aedes's default store walked them all at every SUBSCRIBE).
    // Loaded only for a cluster: a central alone never loads ioredis.
    const backplane = cluster ? (await import('./redisBackplane.js')).openRedisBackplane(cluster, logger.child({ component: 'cluster' })) : null;
    this.backplane = backplane;
    const holders = cluster && backplane ? new TerminalHolders(backplane.redis, cluster.nodeId, logger.child({ component: 'cluster' })) : null;
    this.holdersOf = holders;
    const authLogger = logger.child({ component: 'auth' });
    const throttle = new FailureThrottle(mqtt.authFailures, {
      logger: authLogger,
      // Shared by the nodes, so spreading guesses over them gains nothing (sharedFailureCounts.ts).
      ...(backplane ? { shared: new SharedFailureCounts(backplane.redis, authLogger) } : {}),
    });
    this.throttle = throttle;
    // Loaded before the listener opens, so a restart's logins are served from it; should the
    // read fail, logins ask the store until the revocation watcher's next pass.
    const registry = new RegistrySnapshot(store);
    await registry.refresh().catch((err: unknown) => authLogger.error({ err }, 'auth.registry-read-failed'));
    const aedes = await Aedes.createBroker({
      ...aedesLimits(mqtt),
      ...(cluster && backplane
        ? // A stable id: aedes keys this node's wills and in-flight packets by it in Redis.
          { id: cluster.nodeId, mq: backplane.mq, persistence: backplane.persistence }
        : { persistence: new RetainedIndexPersistence() }),
      preConnect: createPreConnect(sessions),
      authenticate: createAuthenticate({
        store,
        registry,
        sessions,
        lab,
        enrollment: this.deps.enrollment !== undefined,
        logger,
        refused: metrics.authRefused,
        throttle,
        // Read only for a refusal: the peer's address costs a system call.
        remoteAddress: (client) => (client.conn as Socket).remoteAddress,
      }),
      authorizePublish: createAuthorizePublish({
        sessions,
        ingestion,
        ackOrder: new AckOrder<Client>(),
        metrics,
        logger,
        ...(this.deps.pendingScans ? { pending: this.deps.pendingScans } : {}),
        ...(this.deps.commandAcks ? { commandAcks: this.deps.commandAcks } : {}),
        ...(this.deps.enrollment ? { enroll: (clientId: string, qr: EnrollmentQr) => this.answerEnrollment(clientId, qr) } : {}),
        ...(holders ? { holders } : {}),
      }),
      authorizeSubscribe: createAuthorizeSubscribe({ sessions, metrics, logger }),
    });
    this.aedes = aedes;
    this.observe(aedes, sessions, ingestion);
    // Before the listener opens: every will under this node's id is from before this start.
    if (cluster && backplane) await publishLeftoverWills(aedes, backplane.persistence, cluster.nodeId, logger);
    // Removed terminals, rotated secrets and retired checkpoints end live connections too.
    this.revocations = new RevocationWatcher({ registry, sessions, clients: () => this.connected, logger: logger.child({ component: 'auth' }) });
    this.revocations.start();

    const onConnection = (socket: Socket): void => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      socket.setNoDelay(true); // a PUBACK should not wait for Nagle
      socket.setKeepAlive(true, tcpKeepAliveDelayMs);
      aedes.handle(guardConnection(socket, mqtt.maxPacketBytes));
    };
    const tcp = createServer(onConnection);
    tcp.maxConnections = mqtt.maxConnections;
    this.servers.push(tcp);
    const port = await listen(tcp, { host: mqtt.host, port: mqtt.port, hostSetting: 'mqtt.host', portSetting: 'mqtt.port' });
    if (!mqtt.tls || !tlsFiles) return { port };

    const tls = createTlsServer({ ...tlsFiles, handshakeTimeout: mqtt.connectTimeoutMs }, onConnection);
    tls.maxConnections = mqtt.maxConnections;
    tls.on('tlsClientError', (err) => logger.debug({ err: err.message }, 'mqtt.tls-error'));
    this.servers.push(tls);
    const tlsPort = await listen(tls, { host: mqtt.host, port: mqtt.tls.port, hostSetting: 'mqtt.host', portSetting: 'mqtt.tls.port' });
    return { port, tlsPort };
  }

  /**
   * Our broker stores before its PUBACK, so its terminals need no receipt; one configured
   * with `central.receipts` (the same config pointed at Mosquitto elsewhere) gets one all the
   * same. Published even when nobody subscribed: one small publish per batch, cheaper than
   * tracking who asked. Never retained: a retained receipt would be replayed to the
   * terminal's next connection [MQTT-3.3.1-6], long after it meant anything.
   */
  private sendReceipt(identity: TopicIdentity, receipt: Receipt): void {
    const aedes = this.aedes;
    if (!aedes) return;
    brokerPublish(aedes, receiptsTopic(identity.checkpointCode, identity.terminalId), Buffer.from(JSON.stringify(receipt)), { retain: false }).catch((err: unknown) =>
      this.logger.warn({ err, terminalId: identity.terminalId }, 'ingest.receipt-failed'),
    );
  }

  private async answerEnrollment(clientId: string, qr: EnrollmentQr): Promise<void> {
    const result = await this.deps.enrollment!.answer(clientId, qr);
    const aedes = this.aedes;
    if (!aedes) return;
    // Never retained: the answer holds the terminal's secret and is for this one connection.
    await brokerPublish(aedes, enrollResultTopic(clientId), Buffer.from(JSON.stringify(result)), { retain: false });
  }

  private observe(aedes: Aedes, sessions: Sessions, ingestion: Ingestion): void {
    const { logger, metrics } = this.deps;
    const connections = (): void => metrics.clientsConnected.set(aedes.connectedClients);
    // Per-client lines are debug: a restart's login storm gets one summary line per period.
    const tally = new ConnectionTally(logger, { connected: () => aedes.connectedClients });
    this.tally = tally;
    const perClient = (client: Client, msg: string): void => {
      if (logger.isLevelEnabled('debug')) logger.debug({ clientId: printable(client.id) }, msg);
    };
    // Held from aedes's 'client' event, emitted just BEFORE it tells the other nodes of the new
    // connection ($SYS/+/new/clients), which makes the previous node close its copy and ask
    // whether it still held the terminal: the HSET is issued first. (Two Redis connections
    // keep no order between them, so this narrows the race; the will sweep's check is later still.)
    aedes.on('client', (client: Client) => {
      const terminalId = sessions.terminalId(client);
      if (terminalId !== null) void this.holdersOf?.hold(terminalId);
    });
    aedes.on('clientReady', (client: Client) => {
      this.connected.add(client);
      connections();
      const terminalId = sessions.terminalId(client);
      if (terminalId !== null) ingestion.connection(terminalId, true);
      if (sessions.principal(client)?.kind === 'enroll') setTimeout(() => client.close(), enrollSessionMs).unref();
      tally.login();
      perClient(client, 'mqtt.client-connected');
    });
    aedes.on('clientDisconnect', (client: Client) => {
      this.connected.delete(client);
      connections();
      const terminalId = sessions.terminalId(client);
      if (terminalId !== null) this.recordDisconnection(ingestion, terminalId);
      if (terminalId !== null && this.commandSubscribers.get(terminalId) === client) this.commandSubscribers.delete(terminalId);
      tally.disconnect();
      perClient(client, 'mqtt.client-disconnected');
    });
    aedes.on('subscribe', (subscriptions, client: Client) => this.noteCommandSubscription(sessions, client, subscriptions, true));
    aedes.on('unsubscribe', (topics: string[], client: Client) => this.noteCommandSubscription(sessions, client, topics.map((topic) => ({ topic, qos: 0 })), false));
    // A client's errors end its own connection (aedes closes it); they are news, not faults.
    // aedes repeats the error for every write still pending on it: log the first one.
    const reported = new WeakSet<Client>();
    aedes.on('clientError', (client: Client, err: Error) => {
      const line = { clientId: printable(client.id ?? ''), reason: err.message, code: (err as { code?: unknown }).code };
      if (reported.has(client)) return logger.debug(line, 'mqtt.client-error');
      reported.add(client);
      logger.info(line, 'mqtt.client-error');
    });
    aedes.on('connectionError', (_client: Client, err: Error) => {
      tally.connectionError();
      if (logger.isLevelEnabled('debug')) logger.debug({ reason: err.message, code: (err as { code?: unknown }).code }, 'mqtt.connection-error');
    });
    aedes.on('keepaliveTimeout', (client: Client) => logger.info({ clientId: printable(client.id) }, 'mqtt.keepalive-timeout'));
    // Without a listener an 'error' event would throw and take the process down. aedes
    // emits it (persistence failures, will sweeps) but its typings do not list it.
    const emitter: EventEmitter = aedes;
    emitter.on('error', (err: Error) => logger.error({ err }, 'mqtt.broker-error'));
  }

  /** Alone, at once; in a cluster, only if no other node holds the terminal now (terminalHolders.ts). */
  private recordDisconnection(ingestion: Ingestion, terminalId: string): void {
    const holders = this.holdersOf;
    if (!holders) return ingestion.connection(terminalId, false);
    void holders.release(terminalId).then((news) => {
      if (news) ingestion.connection(terminalId, false);
      else this.logger.info({ terminalId }, 'cluster.disconnect-outdated');
    });
  }

  /** Follows which connection of a terminal may receive its commands (SUBACK 0x80 grants nothing). */
  private noteCommandSubscription(sessions: Sessions, client: Client, subscriptions: ReadonlyArray<{ readonly topic: string; readonly qos: number }>, subscribed: boolean): void {
    const principal = sessions.principal(client);
    if (principal?.kind !== 'terminal') return;
    const ownCommands = `${terminalPrefix(principal.checkpointCode, principal.terminalId)}cmd/`;
    if (!subscriptions.some((s) => s.topic.startsWith(ownCommands) && s.qos !== 128)) return;
    if (subscribed) {
      this.commandSubscribers.set(principal.terminalId, client);
      this.deps.onCommandSubscriber?.(principal.terminalId);
    } else if (this.commandSubscribers.get(principal.terminalId) === client) {
      this.commandSubscribers.delete(principal.terminalId);
    }
  }

  /**
   * Stops accepting, commits the events already waiting (their PUBACKs can still go out),
   * closes every client (their wills become offline statuses), then lets ingestion finish.
   */
  stop(): Promise<void> {
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async close(): Promise<void> {
    const closed = this.servers.map(closeServer);
    await this.revocations?.stop();
    this.throttle?.stop();
    await this.ingestion?.flush();
    const aedes = this.aedes;
    // With Redis gone aedes's close would wait for ever on the emitter's QUIT: bounded.
    if (aedes) {
      const closedAedes = new Promise<void>((resolve) => aedes.close(() => resolve()));
      await (this.backplane ? Promise.race([closedAedes, new Promise<void>((resolve) => setTimeout(resolve, closeBackplaneMs).unref())]) : closedAedes);
    }
    for (const socket of this.sockets) socket.destroy();
    this.tally?.stop();
    await Promise.all(closed);
    await this.backplane?.close();
    await this.ingestion?.stop();
  }
}

export function createMqttBroker(options: MqttBrokerOptions, deps: MqttBrokerDeps): MqttBroker {
  return new MqttBroker(options, deps);
}
