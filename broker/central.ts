import { createPublicKey } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { loadAuthorityPrivateKey, loadRefKey } from '../protocol/keys.js';
import type { Logger } from '../protocol/logger.js';
import { deleteExpiredSessions } from './access/sessions.js';
import type { Pages } from './api/pages.js';
import { CommandAcks } from './commands/commandAcks.js';
import { CommandDelivery } from './commands/commandDelivery.js';
import { createApiServer } from './api/server.js';
import { EnrollmentDesk } from './enrollment/enrollmentDesk.js';
import { PendingScans } from './guard/pendingScans.js';
import { TerminalCommands } from './guard/terminalCommands.js';
import { brokerPublish } from './mqtt/brokerPublish.js';
import { openCentralStore, type CentralConfig } from './config.js';
import { lockDataDir, type DataDirLock } from './dataDirLock.js';
import { LiveEvents } from './ingestion/liveEvents.js';
import { SharedLists } from './lists/sharedLists.js';
import { ListDistributor } from './lists/distributor.js';
import { MetricsRegistry } from './metrics.js';
import { createBrokerMetrics } from './mqtt/brokerMetrics.js';
import { createMqttBroker, type MqttBroker } from './mqtt/createMqttBroker.js';
import { redisForLogs } from './mqtt/redisForLogs.js';
import { listen } from './mqtt/listen.js';
import { openRegistry } from './registry/registryDb.js';
import type { RegistryHandle } from './store/sql/registryDb.js';
import type { CentralStore } from './store/centralStore.js';
import { createRetentionMetrics, EventRetention } from './store/eventRetention.js';

/**
 * `qrgate central`: the store, the MQTT broker with ingestion, and the HTTP API in one
 * process (DESIGN.md "The parts": broker/). The constructor keeps its arguments; `start()`
 * opens the parts in dependency order and resolves with the ports actually bound; `stop()`
 * closes them in reverse and is safe to call twice, or after a failed start.
 */

export interface CentralPorts {
  readonly mqttPort: number;
  readonly tlsPort?: number;
  readonly httpPort: number;
}

export interface CentralDeps {
  readonly logger: Logger;
  /** Pages for people beside the API (the console, console/); the API alone without. */
  readonly pages?: Pages;
}

export class Central {
  private lock: DataDirLock | null = null;
  private store: CentralStore | null = null;
  private broker: MqttBroker | null = null;
  private lists: ListDistributor | null = null;
  private commandDelivery: CommandDelivery | null = null;
  private api: FastifyInstance | null = null;
  /** The HTTP side's own connection (SQLite) or pool (PostgreSQL) to the registry, accounts and audit log, as the CLI has (api/server.ts). */
  private apiRegistry: RegistryHandle | null = null;
  private sessionSweep: NodeJS.Timeout | null = null;
  private retention: EventRetention | null = null;
  private stopping: Promise<void> | null = null;
  private started = false;

  constructor(
    private readonly config: CentralConfig,
    private readonly deps: CentralDeps,
  ) {}

  /**
   * Rejects when the central can no longer work after a good start: its store was lost
   * (cli/service.ts stops it and exits 1, so systemd starts a fresh one).
   */
  get failed(): Promise<never> | undefined {
    return this.store?.lost;
  }

  async start(): Promise<CentralPorts> {
    if (this.started) throw new Error('Central.start: already started');
    this.started = true;
    try {
      return await this.open();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async open(): Promise<CentralPorts> {
    const { config } = this;
    const logger = this.deps.logger;
    if (config.lab) {
      logger.warn(
        { lab: true, warning: 'clients WITHOUT credentials are admitted with FULL access to every topic: interoperability testing only, never production' },
        'central.lab-mode',
      );
    }
    // Key files are checked now, not when a list is first published: a wrong path should
    // stop the start, with the file named (KeyFileError).
    const authorityKey = loadAuthorityPrivateKey(config.keys.authorityKey);
    const refKey = loadRefKey(config.keys.refKey);

    // Before anything else is opened: a second central on this folder must touch nothing of the first's.
    this.lock = lockDataDir(config.dataDir);
    const store = await openCentralStore(config, { logger });
    this.store = store;
    const metrics = new MetricsRegistry({ logger: logger.child({ component: 'metrics' }) });
    const brokerMetrics = createBrokerMetrics(metrics, config.metrics);
    const pendingScans = new PendingScans({ logger: logger.child({ component: 'guard' }), malformed: brokerMetrics.malformed });
    // Ingestion tells it of each stored event; the API's live log listens (GET /api/events/live).
    const liveEvents = new LiveEvents(logger.child({ component: 'live' }));
    const broker = createMqttBroker(
      { mqtt: config.mqtt, ingest: config.ingest, lab: config.lab, ...(config.cluster ? { cluster: config.cluster } : {}) },
      {
        store,
        metrics: brokerMetrics,
        pendingScans,
        logger: logger.child({ component: 'mqtt' }),
        enrollment: new EnrollmentDesk({ store, authorityKey, refKey, logger: logger.child({ component: 'enroll' }), dataDir: config.dataDir }),
        liveEvents,
        commandAcks: new CommandAcks({ store, logger: logger.child({ component: 'commands' }), malformed: brokerMetrics.malformed }),
        onCommandSubscriber: (terminalId) => this.commandDelivery?.terminalReady(terminalId),
      },
    );
    this.broker = broker;
    const mqtt = await broker.start();
    // Published lists go out once the broker listens (broker/lists/distributor.ts).
    const apiRegistry = await openRegistry(config, (err) => logger.warn({ err }, 'registry.connection-lost'));
    this.apiRegistry = apiRegistry;
    const trustedKeys = [createPublicKey(authorityKey)];
    const listsLogger = logger.child({ component: 'lists' });
    // A cluster's nodes serve the same signed files: each brings the shared version into its folder first.
    const shared = config.cluster ? new SharedLists({ db: apiRegistry.db, dataDir: config.dataDir, trustedKeys, logger: listsLogger }) : null;
    const lists = new ListDistributor({
      dataDir: config.dataDir,
      trustedKeys,
      broker: broker.broker!,
      logger: listsLogger,
      ...(shared ? { beforePass: () => shared.materialise() } : {}),
    });
    this.lists = lists;
    await lists.start();

    // The API's and the session sweep's one RegistryDb (on SQLite its transactions queue the rest).
    const registry = apiRegistry.db;
    const aedes = broker.broker!;
    const commands = new TerminalCommands({
      publish: (topic, payload) => brokerPublish(aedes, topic, payload, { retain: false }),
      connected: (terminalId) => broker.terminalConnected(terminalId),
    });
    // The queue of `qrgate terminals command`, read from the store: delivered here to the
    // terminals connected here, whichever process queued them (issue 15 point 6).
    const commandDelivery = new CommandDelivery({
      store,
      commands,
      subscriber: (terminalId) => broker.commandSubscriber(terminalId),
      logger: logger.child({ component: 'commands' }),
    });
    this.commandDelivery = commandDelivery;
    commandDelivery.start();
    void commandDelivery.poll();
    const api = await createApiServer({
      config,
      store,
      registry,
      metrics,
      logger,
      guard: { pending: pendingScans, commands },
      liveEvents,
      ...(this.deps.pages ? { pages: this.deps.pages } : {}),
      ...(broker.holders ? { holders: broker.holders } : {}),
    });
    this.api = api;
    await api.ready();
    const httpPort = await listen(api.server, { host: config.http.host, port: config.http.port, hostSetting: 'http.host', portSetting: 'http.port' });
    // Expired sessions are refused on sight; this only keeps the table from growing.
    const sessions = { idleMs: config.http.sessions.idleMinutes * 60_000, absoluteMs: config.http.sessions.absoluteHours * 3_600_000 };
    this.sessionSweep = setInterval(() => {
      deleteExpiredSessions(registry, sessions).catch((err: unknown) => logger.warn({ err }, 'central.session-sweep-failed'));
    }, 600_000).unref();

    // Old scan events go in short paced batches, on the same event loop as ingestion (eventRetention.ts).
    const retentionDays = config.store.retentionDays;
    if (retentionDays === null) {
      logger.warn({ retentionDays }, 'store.retention-off');
    } else {
      this.retention = new EventRetention({ retentionDays }, { store, logger: logger.child({ component: 'store' }), metrics: createRetentionMetrics(metrics) });
      this.retention.start();
    }

    const ports: CentralPorts = { mqttPort: mqtt.port, ...(mqtt.tlsPort === undefined ? {} : { tlsPort: mqtt.tlsPort }), httpPort };
    logger.info(
      {
        mqtt: { port: mqtt.port, ...(mqtt.tlsPort === undefined ? {} : { tlsPort: mqtt.tlsPort }) },
        http: { port: httpPort },
        store: config.store.type,
        dataDir: config.dataDir,
        lab: config.lab,
        ...(config.cluster ? { cluster: { node: config.cluster.nodeId, redis: redisForLogs(config.cluster.redisUrl), keyPrefix: config.cluster.keyPrefix } } : {}),
      },
      'central.ready',
    );
    return ports;
  }

  stop(): Promise<void> {
    this.stopping ??= this.close();
    return this.stopping;
  }

  /** Reverse order: retention, no new HTTP requests, no new list publishes, then the broker (which commits what waits), the store, the dataDir lock. */
  private async close(): Promise<void> {
    if (this.sessionSweep) clearInterval(this.sessionSweep);
    // Between two batches: nothing half-done, and the store is still open for the batch that runs.
    await this.retention?.stop();
    const api = this.api;
    if (api) {
      const closed = api.close();
      api.server.closeAllConnections(); // idle keep-alive connections would hold close() open
      await closed;
    }
    await this.apiRegistry?.close();
    await this.commandDelivery?.stop();
    await this.lists?.stop();
    await this.broker?.stop();
    await this.store?.close();
    this.lock?.release();
    if (this.started) this.deps.logger.info('central.stopped');
  }
}
