/**
 * Throughput and memory of `GET /events.csv` over a large log, until `qrgate bench console`
 * measures it (issue 14: 1,000,000 rows at >= 100,000 rows/s with flat memory):
 *
 *   node --expose-gc --import tsx test/bench/eventsCsvThroughput.ts [rows, default 1000000]
 *
 * A real API server on a real SQLite store filled with the eventsCsv tests' log, read over
 * loopback by a client in the same process. Prints one JSON line: wall-clock rows/s, rows
 * per CPU-second of the whole process (server and client: comparable on a loaded machine),
 * and RSS and heap before and at their peak (sampled every 50 ms).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createToken } from '../../broker/access/tokens.js';
import { createApiServer } from '../../broker/api/server.js';
import { centralDbFileName, loadCentralConfig } from '../../broker/config.js';
import { MetricsRegistry } from '../../broker/metrics.js';
import { openRegistryDb } from '../../broker/registry/registryDb.js';
import { SqliteRegistryDb } from '../../broker/store/sql/sqliteRegistryDb.js';
import { SqliteCentralStore } from '../../broker/store/sqliteStore.js';
import { writeLocalCentral } from '../../provisioning/localCentral.js';
import { captureLogger, silentLogger } from '../fakes/captureLogger.js';
import type { Api } from '../broker/api/apiHarness.js';
import { eventMaker, seededApi } from '../broker/api/eventsFixture.js';

const total = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'qrgate-csv-bench-'));
const config = loadCentralConfig(writeLocalCentral(dir));
const store = new SqliteCentralStore({ file: join(config.dataDir, centralDbFileName), logger: silentLogger() });
await store.migrate();
const db = openRegistryDb(config);
const metrics = new MetricsRegistry({ logger: silentLogger(), processMetrics: false });
const registry = new SqliteRegistryDb(db);
const app = await createApiServer({ config, store, registry, metrics, logger: silentLogger() });
await app.listen({ port: 0, host: '127.0.0.1' });
const { port } = app.server.address() as AddressInfo;
const adminToken = (await createToken(registry, { name: 'bench', role: 'admin', createdBy: 'bench' })).token;
const base = `http://127.0.0.1:${port}`;
// The fixture seeds checkpoints and members through an Api; this server is one without the test helpers.
const api = { config, store, db, registry, metrics, log: captureLogger('silent'), base, port, adminToken } as unknown as Api;
const { ref } = await seededApi(async () => api);
const events = eventMaker(ref);
let started = performance.now();
for (let stored = 0; stored < total; stored += 20_000) await store.insertEvents(events(Math.min(20_000, total - stored)), Date.now());
const seededS = (performance.now() - started) / 1000;

globalThis.gc?.();
const before = process.memoryUsage();
let peakRss = before.rss;
let peakHeap = before.heapUsed;
const sampler = setInterval(() => {
  const now = process.memoryUsage();
  peakRss = Math.max(peakRss, now.rss);
  peakHeap = Math.max(peakHeap, now.heapUsed);
}, 50);
started = performance.now();
const cpuBefore = process.cpuUsage();
const response = await fetch(`${base}/events.csv`, { headers: { authorization: `Bearer ${adminToken}` } });
let rows = -1; // the header
let bytes = 0;
for await (const chunk of response.body!) {
  const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
  bytes += buffer.length;
  for (let at = buffer.indexOf(10); at !== -1; at = buffer.indexOf(10, at + 1)) rows++;
}
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
clearInterval(sampler);
const mb = (n: number): number => Math.round(n / 2 ** 20);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(
  JSON.stringify({
    rows,
    seededS: Number(seededS.toFixed(1)),
    mbytes: mb(bytes),
    seconds: Number(seconds.toFixed(2)),
    rowsPerSecond: Math.round(rows / seconds),
    rowsPerCpuSecond: Math.round(rows / cpuSeconds),
    rssBeforeMb: mb(before.rss),
    rssPeakMb: mb(peakRss),
    heapBeforeMb: mb(before.heapUsed),
    heapPeakMb: mb(peakHeap),
  }),
);
await app.close();
db.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
