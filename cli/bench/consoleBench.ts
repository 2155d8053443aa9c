import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addUser } from '../../broker/access/users.js';
import { withCentralStore } from '../../broker/config.js';
import { createCheckpoint } from '../../broker/registry/checkpoints.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import { createLogger } from '../../protocol/logger.js';
import { fillEvents } from './console/fillEvents.js';
import { liveLatency, type LiveLatency } from './console/liveLatency.js';
import { ConsoleSession } from './console/session.js';
import { startCentralTarget } from './e2e/centralTarget.js';
import { benchRuntime } from './e2e/child.js';
import { cpuSeconds } from './e2e/procStats.js';
import { percentile, processMemoryMb, round } from './stats.js';

export interface ConsoleBenchOptions {
  /** Events in the store before the central starts, spread over the last 30 days. */
  readonly events: number;
  readonly checkpoints: number;
  /** Timed requests per page, after a few untimed ones. */
  readonly requests: number;
  /** Rows the CSV export downloads (the newest ones), at most `events`. */
  readonly csvRows: number;
  /** Events per second the simulated terminals decide while the live log is watched, and for how long. */
  readonly liveRatePerSec: number;
  readonly liveSeconds: number;
  readonly liveTerminals: number;
  readonly entry?: string;
  readonly log?: (line: string) => void;
}

export interface ConsoleBenchResult {
  readonly runtime: 'node-dist' | 'tsx';
  readonly events: number;
  readonly checkpoints: number;
  readonly fillMs: number;
  readonly storeMb: number;
  /** Full response time of each page as the bench's client sees it over loopback, ms. */
  readonly overviewP50Ms: number;
  readonly overviewP95Ms: number;
  readonly checkpointP50Ms: number;
  readonly checkpointP95Ms: number;
  readonly eventsP50Ms: number;
  readonly eventsP95Ms: number;
  readonly csvRows: number;
  readonly csvRowsPerSec: number;
  readonly csvMb: number;
  /** The central's CPU seconds (all its threads) during the download, and rows per such second. */
  readonly csvCentralCpuS: number | null;
  readonly csvRowsPerCentralCpuS: number | null;
  /** The central's resident set before the download; its peak (VmHWM) since it started, read after the download. */
  readonly csvRssBeforeMb: number | null;
  /** The largest resident set sampled every 200 ms during the download. */
  readonly csvRssMaxMb: number | null;
  readonly centralPeakRssMb: number | null;
  readonly live: LiveLatency;
  readonly liveP50Ms: number;
  readonly liveP95Ms: number;
}

const warmupRequests = 3;
const monthMs = 30 * 86_400_000;

/**
 * `qrgate bench console`: the operator console at size (issue 14). A central store filled
 * with `events` scan events over the last 30 days (fillEvents.ts), a real `qrgate central`
 * child on it, an admin logged in through `POST /api/session`; then
 * 1. the overview (`/`), the busiest checkpoint's page and the log's first page (`/events`),
 *    each requested `requests` times in a row;
 * 2. `/events.csv` for the newest `csvRows` rows, with the central's memory around it;
 * 3. the live log (`/api/events/live`) read while simulated terminals (real outboxes and
 *    uplinks, over MQTT) decide `liveRatePerSec` events a second: decision-to-client latency.
 */
export async function runConsoleBench(options: ConsoleBenchOptions): Promise<ConsoleBenchResult> {
  const log = options.log ?? (() => {});
  const entry = options.entry ?? process.argv[1]!;
  const dir = mkdtempSync(join(tmpdir(), 'qrgate-bench-console-'));
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  const password = randomBytes(18).toString('base64url');
  const endMs = Date.now();
  let codes: string[] = [];
  let fillMs = 0;
  let storeMb = 0;
  const run = randomBytes(4).toString('hex');
  const terminalIds = Array.from({ length: options.liveTerminals }, (_, i) => `live${run}-${String(i + 1).padStart(3, '0')}`);
  // A central that never came up leaves a filled store behind unless removed here too.
  const target = await startCentralTarget({
    dir: join(dir, 'site'),
    entry,
    terminalIds,
    logger,
    log,
    async beforeStart(site) {
      codes = await withCentralStore(site.config, { logger }, async (store) => {
        const made: string[] = [];
        for (let i = 0; i < options.checkpoints; i++) made.push((await createCheckpoint(store, { name: `Cổng ${i + 1}`, direction: 'both', confirm: 'auto' })).code);
        return made;
      });
      await withRegistry(site.config, (db) => addUser(db, { username: 'bench-admin', role: 'admin', password }));
      log(`filling the store with ${options.events} events over ${codes.length} checkpoints`);
      fillMs = fillEvents({ storeFile: site.storeFile, checkpoints: codes, terminalsPerCheckpoint: 4, events: options.events, endMs, spanMs: monthMs, log }).filledMs;
      storeMb = round(statSync(site.storeFile).size / 2 ** 20, 0);
      log(`store filled in ${Math.round(fillMs)} ms: ${storeMb} MB`);
    },
  }).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  try {
    const session = await ConsoleSession.login(`http://127.0.0.1:${target.httpPort}`, 'bench-admin', password);
    const timedPage = async (path: string): Promise<{ p50: number; p95: number }> => {
      for (let i = 0; i < warmupRequests; i++) await session.get(path);
      const times: number[] = [];
      for (let i = 0; i < options.requests; i++) times.push((await session.get(path)).ms);
      times.sort((a, b) => a - b);
      log(`${path}: p50 ${round(percentile(times, 50), 1)} ms, p95 ${round(percentile(times, 95), 1)} ms`);
      return { p50: round(percentile(times, 50), 1), p95: round(percentile(times, 95), 1) };
    };
    const overview = await timedPage('/');
    const checkpoint = await timedPage(`/checkpoints/${codes[0]!}`);
    const events = await timedPage('/events');

    const csvRows = Math.min(options.csvRows, options.events);
    const fromMs = endMs - Math.ceil((monthMs * csvRows) / Math.max(1, options.events));
    const rssBefore = await processMemoryMb(target.brokerPid!).catch(() => null);
    const cpuBefore = await cpuSeconds(target.brokerPid!);
    // VmHWM after the download also holds any earlier peak: the resident set is sampled during it too.
    let csvRssMaxMb = rssBefore?.rssMb ?? 0;
    const rssSampler = setInterval(() => {
      processMemoryMb(target.brokerPid!).then(
        (now) => (csvRssMaxMb = Math.max(csvRssMaxMb, now.rssMb)),
        () => undefined,
      );
    }, 200);
    const csv = await session.download(`/events.csv?from=${new Date(fromMs).toISOString()}`).finally(() => clearInterval(rssSampler));
    const peak = await processMemoryMb(target.brokerPid!).catch(() => null);
    const cpuAfter = await cpuSeconds(target.brokerPid!);
    // Its CPU time, both threads: what the export costs whatever share of the cores the load leaves it.
    const csvCentralCpuS = cpuBefore === null || cpuAfter === null ? null : round(cpuAfter - cpuBefore, 2);
    log(`/events.csv: ${csv.rows} rows in ${Math.round(csv.ms)} ms; central RSS ${rssBefore?.rssMb ?? '?'} MB before, at most ${csvRssMaxMb} MB during`);

    const live = await liveLatency({ session, entry, dir: join(dir, 'live'), terminals: target.terminals, ratePerSec: options.liveRatePerSec, seconds: options.liveSeconds, log });
    log(`live log: ${live.received}/${live.decided} events seen, p95 ${live.p95Ms} ms`);
    return {
      runtime: benchRuntime(),
      events: options.events,
      checkpoints: codes.length,
      fillMs: Math.round(fillMs),
      storeMb,
      overviewP50Ms: overview.p50,
      overviewP95Ms: overview.p95,
      checkpointP50Ms: checkpoint.p50,
      checkpointP95Ms: checkpoint.p95,
      eventsP50Ms: events.p50,
      eventsP95Ms: events.p95,
      csvRows: csv.rows,
      csvRowsPerSec: Math.round((csv.rows / csv.ms) * 1000),
      csvMb: round(csv.bytes / 2 ** 20, 1),
      csvCentralCpuS,
      csvRowsPerCentralCpuS: csvCentralCpuS === null || csvCentralCpuS === 0 ? null : Math.round(csv.rows / csvCentralCpuS),
      csvRssBeforeMb: rssBefore?.rssMb ?? null,
      csvRssMaxMb: rssBefore === null ? null : csvRssMaxMb,
      centralPeakRssMb: peak?.peakRssMb ?? null,
      live,
      liveP50Ms: live.p50Ms,
      liveP95Ms: live.p95Ms,
    };
  } finally {
    await target.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
