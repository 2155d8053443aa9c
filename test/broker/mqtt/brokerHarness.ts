import { join } from 'node:path';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { afterEach } from 'vitest';
import { hashSecret, generateSecret } from '../../../broker/auth/secrets.js';
import { centralConfigSchema, type CentralConfigInput, type ClusterConfig } from '../../../broker/config.js';
import { createBrokerMetrics } from '../../../broker/mqtt/brokerMetrics.js';
import { MqttBroker, type MqttBrokerDeps } from '../../../broker/mqtt/createMqttBroker.js';
import type { CentralStore } from '../../../broker/store/centralStore.js';
import { generateCheckpointCode } from '../../../protocol/checkpointCode.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { MemoryMetrics } from '../../fakes/memoryMetrics.js';
import { TestCentralStore } from '../../helpers/sqliteStore.js';
import { useTempDir } from '../../helpers/tempDir.js';
import type { TerminalIdentity } from './fixtures.js';

/**
 * A real aedes broker on a loopback port chosen by the OS and real mqtt.js clients, over
 * the real store in a temp folder (test/helpers/sqliteStore.ts: a held or failed commit,
 * direct reads of the file). Everything started through them is stopped after each test.
 */

export interface TestTerminal extends TerminalIdentity {
  readonly secret: string;
}

export interface BrokerOverrides {
  readonly lab?: boolean;
  readonly mqtt?: Partial<NonNullable<CentralConfigInput['mqtt']>>;
  readonly ingest?: NonNullable<CentralConfigInput['ingest']>;
  /** The command queue's hooks (broker/commands), as the central wires them. */
  readonly commands?: Pick<MqttBrokerDeps, 'commandAcks' | 'onCommandSubscriber'>;
  /** One node of a cluster sharing Redis (test/helpers/redis.ts gives each test its own prefix). */
  readonly cluster?: ClusterConfig;
}

export class BrokerHarness<S extends CentralStore = TestCentralStore> {
  readonly registry = new MemoryMetrics();
  readonly log = captureLogger('debug');
  readonly broker: MqttBroker;
  port = 0;
  private readonly clients: MqttClient[] = [];
  private readonly beforeStop: Array<() => void> = [];

  constructor(
    readonly store: S,
    overrides: BrokerOverrides = {},
  ) {
    const config = centralConfigSchema.parse({
      dataDir: 'unused',
      keys: { authorityKey: 'unused', refKey: 'unused' },
      lab: overrides.lab ?? false,
      mqtt: { host: '127.0.0.1', port: 0, ...overrides.mqtt },
      ...(overrides.ingest ? { ingest: overrides.ingest } : {}),
    });
    this.broker = new MqttBroker(
      { mqtt: config.mqtt, ingest: config.ingest, lab: config.lab, ...(overrides.cluster ? { cluster: overrides.cluster } : {}) },
      { store: this.store, metrics: createBrokerMetrics(this.registry), logger: this.log.logger, ...overrides.commands },
    );
  }

  async start(): Promise<this> {
    await this.store.migrate();
    this.port = (await this.broker.start()).port;
    return this;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  metric(name: string): number {
    return this.registry.value(name);
  }

  async addCheckpoint(): Promise<string> {
    const code = generateCheckpointCode();
    await this.store.createCheckpoint({ code, name: `Gate ${code}`, direction: 'both', confirm: 'auto' });
    return code;
  }

  /** `listScopes`: the list topics its ACL allows, as `terminals add --lists` would register them. */
  async addTerminal(
    checkpointCode?: string,
    terminalId = `t-${Math.random().toString(36).slice(2, 10)}`,
    listScopes: readonly string[] = ['default'],
  ): Promise<TestTerminal> {
    const code = checkpointCode ?? (await this.addCheckpoint());
    const secret = generateSecret();
    await this.store.addTerminal({ terminalId, checkpointCode: code, secretHash: await hashSecret(secret), listScopes });
    return { terminalId, checkpointCode: code, secret };
  }

  /** Options a terminal would use; `extra` overrides any of them. */
  terminalOptions(terminal: TestTerminal, extra: IClientOptions = {}): IClientOptions {
    return {
      clientId: terminal.terminalId,
      username: terminal.terminalId,
      password: terminal.secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...extra,
    };
  }

  /** Connects and fails the test on a refusal. */
  async connect(options: IClientOptions): Promise<MqttClient> {
    const client = await connectAsync(this.url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options }, false);
    this.clients.push(client);
    return client;
  }

  connectTerminal(terminal: TestTerminal, extra: IClientOptions = {}): Promise<MqttClient> {
    return this.connect(this.terminalOptions(terminal, extra));
  }

  /** Connects expecting a refusal; resolves with the CONNACK return code. */
  async connackCode(options: IClientOptions): Promise<number> {
    try {
      const client = await this.connect(options);
      throw new Error(`connected as ${String(client.options.clientId)}, expected a refusal`);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code !== 'number') throw err;
      return code;
    }
  }

  /** Runs `action` first thing in `stop()`, e.g. releasing a held store call. */
  onStop(action: () => void): void {
    this.beforeStop.push(action);
  }

  /** `closeStore: false` for nodes sharing one store: it is closed once, after the last node. */
  async stop(closeStore = true): Promise<void> {
    for (const action of this.beforeStop.splice(0)) action();
    await Promise.all(this.clients.splice(0).map((client) => client.endAsync(true).catch(() => undefined)));
    await this.broker.stop();
    if (closeStore) await this.store.close();
  }
}

function useHarness<S extends CentralStore>(makeStore: () => S): (overrides?: BrokerOverrides) => Promise<BrokerHarness<S>> {
  const started: BrokerHarness<S>[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((harness) => harness.stop()));
  });
  return async (overrides) => {
    const harness = new BrokerHarness(makeStore(), overrides);
    started.push(harness);
    return harness.start();
  };
}

/** Brokers over the real store in a temp folder, stopped (and the store closed) after each test. */
export function useBroker(): (overrides?: BrokerOverrides) => Promise<BrokerHarness<TestCentralStore>> {
  const tempDir = useTempDir('qrgate-broker-');
  return useHarness(() => new TestCentralStore(join(tempDir(), 'central.db')));
}

/**
 * Nodes of one cluster in this process: one store shared by all (as PostgreSQL is shared by
 * real nodes), each node its own aedes with the cluster's Redis prefix. All stopped, then
 * the store closed, after each test.
 */
export function useClusterNodes(): (cluster: ClusterConfig, store: TestCentralStore, overrides?: BrokerOverrides) => Promise<BrokerHarness<TestCentralStore>> {
  const started: BrokerHarness<TestCentralStore>[] = [];
  afterEach(async () => {
    const nodes = started.splice(0);
    await Promise.all(nodes.map((node) => node.stop(false)));
    await Promise.all([...new Set(nodes.map((node) => node.store))].map((store) => store.close()));
  });
  return async (cluster, store, overrides = {}) => {
    const node = new BrokerHarness(store, { ...overrides, cluster });
    started.push(node);
    return node.start();
  };
}

/** Resolves when `client` closes (the broker dropped it), rejects after `timeoutMs`. */
export function closed(client: MqttClient, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!client.connected) return resolve();
    const timer = setTimeout(() => reject(new Error(`client ${String(client.options.clientId)} still connected after ${timeoutMs} ms`)), timeoutMs);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
