import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttIngestionWorker, subscribeRetryMs } from '../../../broker/ingestion/mqttWorker.js';
import { createBrokerMetrics } from '../../../broker/mqtt/brokerMetrics.js';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { generateCheckpointCode } from '../../../protocol/checkpointCode.js';
import type { TerminalStatus } from '../../../protocol/messages.js';
import { terminalTopic } from '../../../protocol/topics.js';
import { captureLogger, silentLogger } from '../../fakes/captureLogger.js';
import { MemoryMetrics } from '../../fakes/memoryMetrics.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { waitFor } from '../../helpers/waitFor.js';
import { batch, scanEvents, type TerminalIdentity } from '../mqtt/fixtures.js';

/**
 * `qrgate ingest` must never run connected but subscribed to nothing (issue 15, point 8).
 * A real aedes broker on a real socket plays the third-party broker: restarted without
 * persistence, it hands the worker a fresh session, and its ACL can refuse the SUBSCRIBE.
 */

interface TestBroker {
  readonly port: number;
  /** Whether SUBSCRIBEs are granted; flipped by the test. */
  allowSubscribe: boolean;
  close(): Promise<void>;
}

async function startBroker(port: number, allowSubscribe: boolean): Promise<TestBroker> {
  const state = { allowSubscribe };
  const aedes = await Aedes.createBroker({
    // A null subscription is how an aedes hook answers SUBACK 0x80 for that filter.
    authorizeSubscribe: (_client, subscription, callback) => callback(null, state.allowSubscribe ? subscription : null),
  });
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    port: address.port,
    get allowSubscribe() {
      return state.allowSubscribe;
    },
    set allowSubscribe(value: boolean) {
      state.allowSubscribe = value;
    },
    async close() {
      // aedes closes its clients' connections; then the listener can finish closing.
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const terminal: TerminalIdentity = { terminalId: 'gate-subscribe-1', checkpointCode: generateCheckpointCode() };

describe('the ingestion worker never runs deaf', () => {
  const tempDir = useTempDir('qrgate-ingest-sub-');
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function startWorker(port: number) {
    const store = new SqliteCentralStore({ file: join(tempDir(), 'central.db'), logger: silentLogger() });
    await store.migrate();
    const log = captureLogger('info');
    const worker = new MqttIngestionWorker({
      store,
      metrics: createBrokerMetrics(new MemoryMetrics()),
      logger: log.logger,
      url: `mqtt://127.0.0.1:${port}`,
      clientId: 'ingest-subscribe-test',
      reconnectPeriodMs: 100,
      subscribeRetryMaxMs: 200,
    });
    cleanups.push(() => store.close());
    cleanups.push(() => worker.stop());
    return { store, worker, log };
  }

  async function publisher(port: number): Promise<MqttClient> {
    const client = await connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `pub-${Math.random()}`, protocolVersion: 4, reconnectPeriod: 0 });
    cleanups.push(() => client.endAsync(true));
    return client;
  }

  async function storedCount(store: SqliteCentralStore): Promise<number> {
    const page = await store.searchEvents({ terminal: terminal.terminalId, limit: 1000 });
    return page.events.length;
  }

  it('retries a SUBSCRIBE refused after a reconnect until it holds, then stores what arrives', async () => {
    let broker = await startBroker(0, true);
    cleanups.push(() => broker.close());
    const { store, worker, log } = await startWorker(broker.port);
    await worker.start();

    const first = scanEvents(terminal, 3, 1);
    await (await publisher(broker.port)).publishAsync(terminalTopic(terminal.checkpointCode, terminal.terminalId, 'events'), batch(first), { qos: 1 });
    await waitFor(async () => (await storedCount(store)) === 3, 10_000, 'the first batch stored');

    // The broker restarts without persistence and with an ACL that now refuses the worker.
    await broker.close();
    broker = await startBroker(broker.port, false);
    await waitFor(() => log.messages('ingest.subscribe-refused').length >= 2, 10_000, 'the refusal retried');
    expect(log.messages('ingest.subscribe-refused')[0]).toMatchObject({ refused: expect.arrayContaining([expect.stringContaining('/events')]) });

    // The ACL is fixed: the worker's next attempt holds, with no restart.
    broker.allowSubscribe = true;
    await waitFor(() => log.messages('ingest.subscribed').length >= 2, 10_000, 'subscribed again');
    const second = scanEvents(terminal, 2, 4, first[0]!.bootId);
    await (await publisher(broker.port)).publishAsync(terminalTopic(terminal.checkpointCode, terminal.terminalId, 'events'), batch(second), { qos: 1 });
    await waitFor(async () => (await storedCount(store)) === 5, 10_000, 'the batch sent after the fix stored');
  });

  it('start() waits while the SUBSCRIBE is refused', async () => {
    const broker = await startBroker(0, false);
    cleanups.push(() => broker.close());
    const { worker, log } = await startWorker(broker.port);
    let started = false;
    void worker.start().then(() => (started = true));
    await waitFor(() => log.messages('ingest.subscribe-refused').length >= 1, 10_000, 'a refusal');
    expect(started).toBe(false);
    broker.allowSubscribe = true;
    await waitFor(() => started, 10_000, 'start() resolved once the SUBSCRIBE held');
  });

  it('records a retained status re-sent on subscribing as of the time it states, not as news', async () => {
    const broker = await startBroker(0, true);
    cleanups.push(() => broker.close());
    const statedAt = new Date(Date.now() - 3 * 24 * 3600_000).toISOString();
    const retained: TerminalStatus = { v: 1, state: 'online', bootId: '7c3f1e0a-3b7d-4a8e-9d38-6b1c2f4e5a90', at: statedAt };
    await (await publisher(broker.port)).publishAsync(terminalTopic(terminal.checkpointCode, terminal.terminalId, 'status'), JSON.stringify(retained), {
      qos: 1,
      retain: true,
    });
    const { store, worker } = await startWorker(broker.port);
    await store.createCheckpoint({ code: terminal.checkpointCode, name: 'Cổng 1', direction: 'both', confirm: 'auto' });
    await store.addTerminal({ terminalId: terminal.terminalId, checkpointCode: terminal.checkpointCode, secretHash: 'x', listScopes: ['default'] });
    await worker.start();
    await waitFor(async () => (await store.fleet()).find((t) => t.terminalId === terminal.terminalId)?.lastSeenAt !== null, 10_000, 'the retained status recorded');
    const row = (await store.fleet()).find((t) => t.terminalId === terminal.terminalId);
    expect(row?.lastSeenAt).toBe(statedAt);
  });

  it('backs off 1 s, 2 s, 4 s … up to its ceiling', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((attempt) => subscribeRetryMs(attempt, 30_000))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(subscribeRetryMs(100, 30_000)).toBe(30_000);
  });
});
