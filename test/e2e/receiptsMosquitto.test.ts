import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startMosquitto, type MosquittoChild } from '../../cli/bench/e2e/mosquittoChild.js';
import { storedEvents } from '../helpers/centralApi.js';
import { createCentralSite, type CentralSite } from '../helpers/centralSite.js';
import { expectExactlyOnce, outboxDepth as terminalOutboxDepth, typeScans } from '../helpers/delivery.js';
import { freePort } from '../helpers/freePort.js';
import { useQrgateProcesses, type QrgateProcess } from '../helpers/qrgateProcess.js';
import { useTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';

/**
 * Receipts end to end through a third-party broker (issue 15 point 1), with real processes:
 * the machine's `mosquitto` as a child on a free port (as `bench e2e` starts it: no
 * persistence, default queue limits, anonymous), `qrgate ingest` writing the store, and
 * `qrgate terminal`s with `central.receipts` on. Mosquitto's PUBACK says nothing about the
 * store; the claim under test is that with receipts every decided event is stored exactly
 * once all the same, whatever is killed when. The store is read back through a `qrgate
 * central` started on it at the end (its API and its gap report).
 */

const outboxDepth = (site: CentralSite, name: string): number => terminalOutboxDepth(join(site.dir, `${name}-data`));

/** Events of one terminal in the central's SQLite file, read beside the running ingest worker (WAL). */
function storedCount(site: CentralSite, terminalId: string): number {
  const db = new Database(join(site.dir, 'central-data', 'central.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[string], number>('SELECT count(*) FROM events WHERE terminal_id = ?').pluck().get(terminalId)!;
  } finally {
    db.close();
  }
}

describe('receipts through Mosquitto and qrgate ingest', () => {
  const tempDir = useTempDir('qrgate-receipts-');
  const { start, track } = useQrgateProcesses();
  const brokers: MosquittoChild[] = [];
  afterEach(async () => {
    for (const broker of brokers.splice(0)) await broker.stop();
  });

  async function mosquitto(dir: string, port?: number): Promise<MosquittoChild> {
    const broker = await startMosquitto(dir, () => undefined, port === undefined ? {} : { port });
    brokers.push(broker);
    return broker;
  }

  /** A worker under a fixed client id, so a restarted one takes its persistent session back. */
  async function ingest(site: CentralSite, url: string): Promise<QrgateProcess> {
    const worker = start(['ingest', '--central-config', site.centralConfig, '--broker', url, '--client-id', 'receipts-test-ingest']);
    await worker.waitForLine((l) => l.msg === 'ingest.ready', 30_000);
    return worker;
  }

  /** A terminal dialling the broker, reconnecting fast; `receipts` as given. */
  async function terminal(site: CentralSite, name: string, url: string, receipts: boolean) {
    const t = await site.addTerminal(name, {
      url,
      batchSize: 10,
      // A short receipt timeout makes the resend path run too, not only the reconnect one.
      central: { receipts, receiptTimeoutMs: 2000, reconnectMinMs: 50, reconnectMaxMs: 500 },
    });
    const proc = start(['terminal', '--config', t.config], 'pipe');
    await proc.waitForLine((l) => l.msg === 'uplink.connected', 30_000);
    return { ...t, proc, name };
  }

  const drained = (site: CentralSite, name: string) => waitFor(() => outboxDepth(site, name) === 0, 90_000, `${name}: outbox drained`, 100);

  /** Stops the worker cleanly, then reads the store through a central of its own. */
  async function readBack(site: CentralSite, worker: QrgateProcess) {
    worker.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
    const central = await site.startCentral();
    track(central.proc);
    return central.api;
  }

  it('stores every decided event exactly once while the ingest worker is SIGKILLed mid-stream, 4 times', async () => {
    const dir = tempDir();
    const site = await createCentralSite(dir, await freePort());
    const broker = await mosquitto(dir);
    let worker = await ingest(site, broker.url);
    const gates = [await terminal(site, 'gate-1', broker.url, true), await terminal(site, 'gate-2', broker.url, true)];
    const decided = new Map(gates.map((g) => [g.name, 0]));

    for (let round = 0; round < 4; round++) {
      for (const g of gates) decided.set(g.name, await typeScans(g.proc, site, 40, decided.get(g.name)!));
      // A kill at a different moment of the stream each round: mid-commit, between commits,
      // with receipts published or not yet.
      await new Promise((r) => setTimeout(r, (round * 53) % 200));
      worker.kill('SIGKILL');
      await worker.exited;
      worker = await ingest(site, broker.url);
    }
    for (const g of gates) await drained(site, g.name);
    const api = await readBack(site, worker);
    for (const g of gates) await expectExactlyOnce(api, g.terminalId, decided.get(g.name)!);
  }, 240_000); // five worker starts, each a process start on a loaded machine

  it('loses nothing that Mosquitto acknowledged and then lost in a restart without persistence; a terminal without receipts does', async () => {
    const dir = tempDir();
    const site = await createCentralSite(dir, await freePort());
    let broker = await mosquitto(dir);
    const { url } = broker;
    let worker = await ingest(site, url);
    const withReceipts = await terminal(site, 'gate-r', url, true);
    const withoutReceipts = await terminal(site, 'gate-p', url, false);
    let decidedR = await typeScans(withReceipts.proc, site, 50, 0);
    const decidedP = await typeScans(withoutReceipts.proc, site, 50, 0);
    await drained(site, 'gate-r');
    await drained(site, 'gate-p');
    // Drained means Mosquitto acknowledged them; the control's first 50 must be in the store
    // before the worker dies, or they are lost with Mosquitto's queue as the next 100 are.
    await waitFor(() => storedCount(site, withoutReceipts.terminalId) === decidedP, 60_000, 'gate-p: first scans stored', 100);

    // No worker: Mosquitto takes every batch, acknowledges it and queues it for the worker's session.
    worker.kill('SIGKILL');
    await worker.exited;
    decidedR = await typeScans(withReceipts.proc, site, 100, decidedR);
    await typeScans(withoutReceipts.proc, site, 100, decidedP); // decided, and lost below
    // The PUBACK-only terminal lets its rows go as Mosquitto acknowledges them; the other keeps all.
    await drained(site, 'gate-p');
    expect(outboxDepth(site, 'gate-r')).toBe(100);

    // Mosquitto dies with its queue: no persistence, as `bench e2e` and many installs run it.
    await broker.stop();
    broker = await mosquitto(dir, Number(new URL(url).port)); // the same address the terminals dial
    worker = await ingest(site, url);
    decidedR = await typeScans(withReceipts.proc, site, 30, decidedR);
    await drained(site, 'gate-r');

    const api = await readBack(site, worker);
    await expectExactlyOnce(api, withReceipts.terminalId, decidedR);
    // The control: what Mosquitto held for the worker went with it.
    const storedP = (await storedEvents(api, withoutReceipts.terminalId)).map((e) => e.seq).sort((a, b) => a - b);
    expect(storedP).toEqual(Array.from({ length: decidedP }, (_, i) => i + 1));
  }, 240_000);
});
