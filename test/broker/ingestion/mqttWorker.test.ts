import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { connect as mqttConnect, connectAsync, type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { centralDbFileName } from '../../../broker/config.js';
import { discardIngestSession, MqttIngestionWorker } from '../../../broker/ingestion/mqttWorker.js';
import { createBrokerMetrics } from '../../../broker/mqtt/brokerMetrics.js';
import { SqliteCentralStore } from '../../../broker/store/sqliteStore.js';
import { generateCheckpointCode } from '../../../protocol/checkpointCode.js';
import { receiptSchema } from '../../../protocol/messages.js';
import { receiptsTopic, terminalTopic } from '../../../protocol/topics.js';
import { captureLogger, silentLogger } from '../../fakes/captureLogger.js';
import { MemoryMetrics } from '../../fakes/memoryMetrics.js';
import { QrgateProcess } from '../../helpers/qrgateProcess.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { waitFor } from '../../helpers/waitFor.js';
import { writeCentralSite } from '../mqtt/centralFixture.js';
import { batch, scanEvents, type TerminalIdentity } from '../mqtt/fixtures.js';

/**
 * The standalone worker against the real Mosquitto this machine runs (anonymous, loopback).
 * The broker is shared, so every run uses its own terminal ids and worker client ids, reads
 * back only its own terminals' rows, and discards its persistent sessions afterwards.
 */
const brokerUrl = process.env.QRGATE_TEST_MOSQUITTO_URL ?? 'mqtt://127.0.0.1:1883';
const run = randomBytes(4).toString('hex');
let serial = 0;

function newTerminal(): TerminalIdentity {
  serial += 1;
  return { terminalId: `wt-${run}-${serial}`, checkpointCode: generateCheckpointCode() };
}

function eventsTopic(t: TerminalIdentity): string {
  return terminalTopic(t.checkpointCode, t.terminalId, 'events');
}

/** Stored rows of one terminal, read from the SQLite file by another connection. */
function storedIds(file: string, terminalId: string): string[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[string], string>('SELECT id FROM events WHERE terminal_id = ? ORDER BY id').pluck().all(terminalId);
  } finally {
    db.close();
  }
}

describe('MqttIngestionWorker through Mosquitto', () => {
  const tempDir = useTempDir('qrgate-ingest-');
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function publisher(): Promise<MqttClient> {
    const client = await connectAsync(brokerUrl, { clientId: `wt-pub-${run}-${++serial}`, protocolVersion: 4, clean: true, reconnectPeriod: 0 });
    cleanups.push(() => client.endAsync(false));
    return client;
  }

  function forgetSession(clientId: string): void {
    cleanups.push(() => discardIngestSession({ url: brokerUrl, clientId }));
  }

  /** A worker on its own store; `reuse` starts another on the same store and session. */
  async function startWorker(reuse?: { readonly file: string; readonly clientId: string }) {
    const file = reuse?.file ?? join(tempDir(), 'central.db');
    const store = new SqliteCentralStore({ file, logger: silentLogger() });
    await store.migrate();
    const registry = new MemoryMetrics();
    const log = captureLogger('info');
    const clientId = reuse?.clientId ?? `wt-ingest-${run}-${++serial}`;
    // Packets mqtt.js itself writes: it must write no PUBACK (the worker writes its own).
    const sent: Packet[] = [];
    const connect = (url: string, options: IClientOptions): MqttClient => {
      const client = mqttConnect(url, options);
      client.on('packetsend', (packet: Packet) => sent.push(packet));
      return client;
    };
    const worker = new MqttIngestionWorker({ store, metrics: createBrokerMetrics(registry), logger: log.logger, url: brokerUrl, clientId, connect });
    if (!reuse) forgetSession(clientId);
    cleanups.push(() => store.close());
    cleanups.push(() => worker.stop());
    await worker.start();
    return { file, clientId, store, worker, log, sent, metric: (name: string) => registry.value(name) };
  }

  it('stores a batch published at QoS 1 once', async () => {
    const w = await startWorker();
    const t = newTerminal();
    const events = scanEvents(t, 50);
    await (await publisher()).publishAsync(eventsTopic(t), batch(events), { qos: 1 });
    await waitFor(() => storedIds(w.file, t.terminalId).length === 50, 20_000, '50 stored events');
    expect(storedIds(w.file, t.terminalId)).toEqual(events.map((e) => e.id).sort());
  });

  it('acknowledges each message itself, once: the broker re-sends nothing to the next worker', async () => {
    const w = await startWorker();
    const t = newTerminal();
    const client = await publisher();
    const batches = [scanEvents(t, 5, 1), scanEvents(t, 5, 6), scanEvents(t, 5, 11)];
    for (const events of batches) await client.publishAsync(eventsTopic(t), batch(events), { qos: 1 });
    await waitFor(() => storedIds(w.file, t.terminalId).length === 15, 20_000, '15 stored events');
    await w.worker.stop();
    expect(w.sent.filter((packet) => packet.cmd === 'puback')).toEqual([]);

    // Same session: anything unacknowledged would be re-sent first [MQTT-4.4.0-1, MQTT-4.6.0-2],
    // so once the marker is stored, a redelivery would have been counted already.
    const next = await startWorker({ file: w.file, clientId: w.clientId });
    const marker = scanEvents(t, 1, 16);
    await client.publishAsync(eventsTopic(t), batch(marker), { qos: 1 });
    await waitFor(() => storedIds(w.file, t.terminalId).length === 16, 20_000, 'the marker');
    expect(next.metric('qrgate_events_duplicate_total')).toBe(0);
  });

  it('does not double a redelivered batch', async () => {
    const w = await startWorker();
    const t = newTerminal();
    const events = scanEvents(t, 10);
    const client = await publisher();
    await client.publishAsync(eventsTopic(t), batch(events), { qos: 1 });
    await client.publishAsync(eventsTopic(t), batch(events), { qos: 1, dup: true });
    await waitFor(() => w.metric('qrgate_events_duplicate_total') >= 10, 20_000, 'the second copy to be judged');
    expect(storedIds(w.file, t.terminalId)).toHaveLength(10);
  });

  it('publishes the terminal a receipt once the batch is stored, for a redelivered batch too (issue 15 point 1)', async () => {
    const w = await startWorker();
    const t = newTerminal();
    const client = await publisher();
    const receipts: number[][] = [];
    /** Per receipt, how many of the terminal's events the file held when it arrived. */
    const storedAtReceipt: number[] = [];
    client.on('message', (topic, payload) => {
      if (topic !== receiptsTopic(t.checkpointCode, t.terminalId)) return;
      receipts.push(receiptSchema.parse(JSON.parse(payload.toString('utf8'))).seqs);
      storedAtReceipt.push(storedIds(w.file, t.terminalId).length);
    });
    await client.subscribeAsync(receiptsTopic(t.checkpointCode, t.terminalId), { qos: 1 });
    const events = scanEvents(t, 10);
    await client.publishAsync(eventsTopic(t), batch(events), { qos: 1 });
    await waitFor(() => receipts.length === 1, 20_000, 'the receipt');
    await client.publishAsync(eventsTopic(t), batch(events.slice(0, 4)), { qos: 1, dup: true });
    await waitFor(() => receipts.length === 2, 20_000, "the redelivery's receipt");
    expect(receipts).toEqual([events.map((e) => e.seq), [1, 2, 3, 4]]);
    expect(storedAtReceipt).toEqual([10, 10]); // a receipt says stored: the commit came first
    expect(storedIds(w.file, t.terminalId)).toHaveLength(10);
  });

  it('counts malformed payloads, acknowledges them, and goes on storing', async () => {
    const w = await startWorker();
    const t = newTerminal();
    const other = newTerminal();
    const client = await publisher();
    await client.publishAsync(eventsTopic(t), 'not json', { qos: 1 });
    await client.publishAsync(eventsTopic(t), batch(scanEvents(other, 2)), { qos: 1 }); // claims another terminal
    await client.publishAsync(terminalTopic(t.checkpointCode, t.terminalId, 'status'), '{"v":2}', { qos: 1 });
    const good = scanEvents(t, 3);
    await client.publishAsync(eventsTopic(t), batch(good), { qos: 1 });
    await waitFor(() => storedIds(w.file, t.terminalId).length === 3, 20_000, 'the good batch');
    const malformed = w.log.messages('ingest.malformed').filter((line) => line.terminalId === t.terminalId);
    expect(malformed.map((line) => line.kind)).toEqual(['events', 'events', 'status']);
    expect(w.metric('qrgate_messages_malformed_total')).toBeGreaterThanOrEqual(3);
    expect(storedIds(w.file, other.terminalId)).toEqual([]);
  });

  it('stores after a restart what it had received but not acknowledged when SIGKILLed, and what came meanwhile', async () => {
    const dir = tempDir();
    const centralConfig = writeCentralSite(dir);
    const file = join(dir, 'central-data', centralDbFileName);
    const clientId = `wt-ingest-${run}-${++serial}`;
    forgetSession(clientId);
    const args = ['ingest', '--central-config', centralConfig, '--broker', brokerUrl, '--client-id', clientId];
    // debug: `ingest.batch-queued` says the worker holds the batch and is committing it.
    const start = async (): Promise<QrgateProcess> => {
      const proc = new QrgateProcess(args, { env: { QRGATE_LOG_LEVEL: 'debug' } });
      cleanups.push(async () => {
        proc.kill('SIGKILL');
        await proc.exited;
      });
      await proc.waitForLine((l) => l.msg === 'ingest.ready');
      return proc;
    };
    const first = await start();

    // Another connection holds the write lock: the worker receives the batch, its commit
    // waits out SQLite's busy timeout (5 s) and fails. We kill it only after that failure,
    // when the event loop has run again: a PUBACK written before the commit would have
    // reached the broker by then, and the batch would be lost.
    const lock = new Database(file);
    cleanups.push(async () => lock.close());
    lock.prepare('BEGIN IMMEDIATE').run();
    const t = newTerminal();
    const received = scanEvents(t, 20);
    const client = await publisher();
    await client.publishAsync(eventsTopic(t), batch(received), { qos: 1 });
    await first.waitForLine((l) => l.msg === 'ingest.batch-queued' && l.terminalId === t.terminalId);
    await first.waitForLine((l) => l.msg === 'ingest.not-acknowledged', 30_000);
    first.kill('SIGKILL');
    await first.exited;
    lock.prepare('ROLLBACK').run();
    expect(storedIds(file, t.terminalId)).toEqual([]);

    // Published while no worker runs: the broker queues it in the worker's session.
    const meanwhile = scanEvents(t, 5, 21);
    await client.publishAsync(eventsTopic(t), batch(meanwhile), { qos: 1 });

    const second = await start();
    const all = [...received, ...meanwhile].map((e) => e.id).sort();
    await waitFor(() => storedIds(file, t.terminalId).length === all.length, 30_000, `${all.length} stored events`);
    expect(storedIds(file, t.terminalId)).toEqual(all);
    second.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    expect(second.linesWith('ingest.stopped')).toHaveLength(1);
  });

  it('start and stop are safe to call twice', async () => {
    const w = await startWorker();
    const again = w.worker.start();
    await expect(again).resolves.toBeUndefined();
    await Promise.all([w.worker.stop(), w.worker.stop()]);
    await expect(w.worker.start()).rejects.toMatchObject({ code: 'worker-stopped' });
  });
});
