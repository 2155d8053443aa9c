import { setTimeout as sleep } from 'node:timers/promises';
import type { CentralStore, EventQuery } from '../../broker/store/centralStore.js';
import { dayMs, EventRetention, type RetentionPass } from '../../broker/store/eventRetention.js';
import { createCheckpoint } from '../../broker/registry/checkpoints.js';
import { createLogger } from '../../protocol/logger.js';
import { uuidv7 } from '../../protocol/uuidv7.js';
import { benchPeople, syntheticEvent, type BenchTerminal } from './console/fillEvents.js';
import { benchRuntime } from './e2e/child.js';
import { percentile, round } from './stats.js';
import { postgresBenchStores, sqliteBenchStores } from './store/benchStores.js';
import { attributeGaps, type AttributedGap, type TimedRetentionCall } from './store/gapCauses.js';
import { ingestAlongside, type IngestStalls } from './store/ingestAlongside.js';

export type BenchStoreType = 'sqlite' | 'postgres';

export interface StoreBenchOptions {
  readonly store: BenchStoreType;
  /** Events in the store before anything is timed, evenly over the last 60 days: half of them past a 30-day retention. */
  readonly events: number;
  readonly checkpoints: number;
  /** Timed calls per query shape, after a few untimed ones. */
  readonly requests: number;
  /** Events a second the insert loop stores while retention runs, in commits every 10 ms. */
  readonly ingestRatePerSec: number;
  /**
   * Stop the retention pass after this long, ms (between two batches): at 10 M events the
   * whole older month (5 M rows) takes longer than a run can wait, so the stall and the delete
   * rate are those of this window. Default: the whole pass.
   */
  readonly retentionWindowMs?: number;
  /**
   * How long the insert loop runs alone before retention, ms. Default 3,000. The longest gap
   * of a window grows with its length (a rare slow fsync is more likely met in 300 s than in
   * 3 s): give it the retention window's length to tell retention's stalls from the machine's.
   */
  readonly baselineMs?: number;
  /**
   * With store postgres: the server the bench makes a database of its own on (and drops at
   * the end), as a connection string to a database its user may CREATE DATABASE from.
   * Default QRGATE_BENCH_PG_URL, else the machine's `postgresql://postgres@127.0.0.1:5432/postgres`.
   */
  readonly postgresUrl?: string;
  readonly log?: (line: string) => void;
}

export const defaultBenchPostgresUrl = process.env.QRGATE_BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface StoreBenchResult {
  readonly store: BenchStoreType;
  readonly runtime: 'node-dist' | 'tsx';
  readonly events: number;
  readonly checkpoints: number;
  readonly fillMs: number;
  readonly storeMb: number;
  /** checkpointStats (hour/day/week/month by decision) of a random checkpoint, ms. */
  readonly statsP50Ms: number;
  readonly statsP95Ms: number;
  /** The first page (50, newest first) of the log under the console's filters, all shapes together, ms. */
  readonly logPageP50Ms: number;
  readonly logPageP95Ms: number;
  /** Each shape's p95, ms: where a regression is. */
  readonly logPageShapesP95Ms: Record<string, number>;
  /** The first retention pass after a month's events aged out, while the insert loop ran. */
  readonly retentionEvents: number;
  /** The pass deleted everything past the cutoff; false when it was stopped at retentionWindowMs. */
  readonly retentionWholePass: boolean;
  /** The window the pass was stopped at, ms; null when it ran to its end. */
  readonly retentionWindowMs: number | null;
  readonly retentionMs: number;
  readonly retentionBatches: number;
  readonly retentionLongestBatchMs: number;
  readonly retentionBatchP95Ms: number;
  /** CPU time the process spent in a batch, ms: what the batch costs with a core to itself. */
  readonly retentionBatchCpuP95Ms: number;
  readonly retentionBatchCpuMaxMs: number;
  readonly retentionEventsPerSec: number;
  /** Events the insert loop stored during the pass. */
  readonly ingestEvents: number;
  /** The longest time between two of its commits finishing during the pass (its 10 ms cadence included), ms. */
  readonly insertStallMaxMs: number;
  readonly insertStallP99Ms: number;
  /** How far the loop fell behind its schedule: grows with the pass on a machine that cannot keep the rate. */
  readonly insertBehindMaxMs: number;
  /** The longest the bench's own event loop was late during the pass, ms: the part of a gap spent in the client, not the store. */
  readonly insertEventLoopDelayMaxMs: number;
  /** The longest gaps beside retention, longest first, each with what it overlapped: where the stall comes from. */
  readonly insertStallLongest: readonly AttributedGap[];
  /** The same insert loop before retention, alone, for `baselineMs`: the machine's own share of any stall. */
  readonly baselineMs: number;
  readonly baselineStallMaxMs: number;
  readonly baselineStallP99Ms: number;
  /** The loop's longest gaps alone, longest first, ms. */
  readonly baselineStallLongestMs: readonly number[];
}

const warmupRequests = 5;
const defaultBaselineMs = 3000;
const spanMs = 60 * dayMs;
const retentionDays = 30;
/** The console's log page (console/pages/events.ts). */
const pageSize = 50;

/**
 * `qrgate bench store`: the central store's queries at size (issue 15 "Store queries at
 * size"), called in process exactly as the central calls them: no HTTP, no MQTT, so the
 * figures are the store's own, and on SQLite also the time each call holds the event loop.
 * On PostgreSQL (`postgresUrl`) the bench makes a database of its own, fills it through
 * insertEvents (slower than SQLite's direct fill) and drops it at the end.
 * 1. `events` scan events over 60 days, 4 terminals per checkpoint (fillEvents.ts, the same
 *    fill as `bench console`);
 * 2. checkpointStats of random checkpoints, `requests` times;
 * 3. the first page of the log under the filters the console offers: checkpoint and a day,
 *    the same with a decision, a checkpoint's week by direction, a decision everywhere;
 * 4. retention of the older month (a 30-day retentionDays, the central's own EventRetention
 *    with its defaults) while an insert loop stores `ingestRatePerSec` events a second beside
 *    it: the longest time between two commits finishing (target: never over 50 ms).
 */
export async function runStoreBench(options: StoreBenchOptions): Promise<StoreBenchResult> {
  const log = options.log ?? (() => {});
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  const stores = options.store === 'postgres' ? await postgresBenchStores(options.postgresUrl ?? defaultBenchPostgresUrl) : sqliteBenchStores();
  const endMs = Date.now();
  try {
    const codes = await stores.withStore(async (store) => {
      const made: string[] = [];
      for (let i = 0; i < options.checkpoints; i++) made.push((await createCheckpoint(store, { name: `Cổng ${i + 1}`, direction: 'both', confirm: 'auto' })).code);
      return made;
    });
    log(`filling the store with ${options.events} events over ${codes.length} checkpoints and 60 days`);
    const { filledMs } = await stores.fill({ checkpoints: codes, terminalsPerCheckpoint: 4, events: options.events, endMs, spanMs, log });
    const storeMb = round(await stores.sizeMb(), 0);
    log(`store filled in ${Math.round(filledMs)} ms: ${storeMb} MB`);

    return await stores.withStore(async (store) => {
      const random = seeded(15);
      const pick = <T>(items: readonly T[]): T => items[random(items.length)]!;
      const nowMs = Date.now();

      const stats = await timeCalls(options.requests, () => store.checkpointStats(pick(codes), nowMs));
      log(`checkpointStats: p50 ${stats.p50} ms, p95 ${stats.p95} ms`);

      const dayInMonth = () => nowMs - (1 + random(29)) * dayMs;
      const shapes: Record<string, () => EventQuery> = {
        'checkpoint+day': () => {
          const from = dayInMonth();
          return { checkpoint: pick(codes), from: iso(from), to: iso(from + dayMs), limit: pageSize };
        },
        'checkpoint+day+refused': () => {
          const from = dayInMonth();
          return { checkpoint: pick(codes), from: iso(from), to: iso(from + dayMs), decision: 'refused', limit: pageSize };
        },
        'checkpoint+week+out': () => {
          const from = dayInMonth() - 6 * dayMs;
          return { checkpoint: pick(codes), from: iso(from), to: iso(from + 7 * dayMs), direction: 'out', limit: pageSize };
        },
        'duplicate+month': () => ({ from: iso(nowMs - 30 * dayMs), decision: 'duplicate', limit: pageSize }),
      };
      const all: number[] = [];
      const shapesP95: Record<string, number> = {};
      for (const [name, query] of Object.entries(shapes)) {
        const timed = await timeCalls(options.requests, () => store.searchEvents(query()));
        all.push(...timed.samples);
        shapesP95[name] = timed.p95;
        log(`log page ${name}: p50 ${timed.p50} ms, p95 ${timed.p95} ms`);
      }
      all.sort((a, b) => a - b);

      log(`retention of events older than ${retentionDays} days while inserting ${options.ingestRatePerSec} events/s`);
      const terminals: BenchTerminal[] = codes.map((code, c) => ({ terminalId: `ingest-${c}`, code, bootId: uuidv7(nowMs), seq: 0 }));
      const people = benchPeople();
      let i = 0;
      const insert = (count: number) => {
        const at = Date.now();
        const events = Array.from({ length: count }, () => syntheticEvent(i, terminals[i++ % terminals.length]!, at, people));
        return store.insertEvents(events, at);
      };
      // The same loop alone first: what the machine itself costs the schedule (a loaded machine is late without retention too).
      const { stalls: baseline } = await ingestAlongside({ ratePerSec: options.ingestRatePerSec, insert, during: () => sleep(options.baselineMs ?? defaultBaselineMs) });
      log(`inserts alone: ${baseline.events} events, longest gaps between commits ${baseline.longestGaps.map((gap) => `${round(gap.gapMs, 1)}`).join(', ')} ms (p99 ${baseline.p99GapMs} ms)`);
      // Each batch's wall time and the CPU the process spent in it: on a machine shared with
      // other work the wall time includes waiting for a core, the CPU time does not.
      const batchWallMs: number[] = [];
      const batchCpuMs: number[] = [];
      const calls: TimedRetentionCall[] = [];
      const timedStore: Pick<CentralStore, 'deleteEventsBefore'> = {
        async deleteEventsBefore(cutoffMs, maxRows, budgetMs) {
          const cpu = process.cpuUsage();
          const started = performance.now();
          const batch = await store.deleteEventsBefore(cutoffMs, maxRows, budgetMs);
          const ended = performance.now();
          batchWallMs.push(ended - started);
          calls.push({ startedAtMs: started, endedAtMs: ended, events: batch.events, maxRows });
          const used = process.cpuUsage(cpu);
          batchCpuMs.push((used.user + used.system) / 1000);
          return batch;
        },
      };
      const retention = new EventRetention({ retentionDays, intervalMs: 3_600_000 }, { store: timedStore, logger });
      const window = options.retentionWindowMs === undefined ? null : setTimeout(() => void retention.stop(), options.retentionWindowMs);
      const { result: pass, stalls } = await ingestAlongside({ ratePerSec: options.ingestRatePerSec, insert, during: () => retention.runOnce() });
      if (window !== null) clearTimeout(window);
      await retention.stop();
      log(`retention${pass.interrupted ? ` (stopped at the ${options.retentionWindowMs} ms window)` : ''}: ${pass.events} events in ${pass.ms} ms, ${pass.batches} batches, longest ${pass.longestBatchMs} ms; inserts: ${stalls.events} events, longest gap between commits ${stalls.maxGapMs} ms (p99 ${stalls.p99GapMs} ms), ${stalls.maxBehindMs} ms behind schedule at most`);
      batchWallMs.sort((a, b) => a - b);
      batchCpuMs.sort((a, b) => a - b);
      const batches = { wallP95Ms: round(percentile(batchWallMs, 95), 1), cpuP95Ms: round(percentile(batchCpuMs, 95), 1), cpuMaxMs: round(batchCpuMs.at(-1) ?? 0, 1) };
      log(`retention batches: wall p95 ${batches.wallP95Ms} ms; CPU p95 ${batches.cpuP95Ms} ms, max ${batches.cpuMaxMs} ms`);
      const longestGaps = attributeGaps(stalls.longestGaps, calls, performance.timeOrigin);
      log(`longest gaps beside retention: ${longestGaps.map((gap) => `${gap.gapMs} ms (${gap.cause})`).join(', ')}; the event loop was late ${stalls.eventLoopDelayMaxMs} ms at most`);
      return result(options, { codes, filledMs, storeMb, stats, all, shapesP95, pass, stalls, longestGaps, baseline, batches });
    });
  } finally {
    await stores.dispose();
  }
}

interface Measured {
  readonly codes: readonly string[];
  readonly filledMs: number;
  readonly storeMb: number;
  readonly stats: Timed;
  readonly all: readonly number[];
  readonly shapesP95: Record<string, number>;
  readonly pass: RetentionPass;
  readonly stalls: IngestStalls;
  readonly longestGaps: readonly AttributedGap[];
  readonly baseline: IngestStalls;
  readonly batches: { wallP95Ms: number; cpuP95Ms: number; cpuMaxMs: number };
}

function result(options: StoreBenchOptions, m: Measured): StoreBenchResult {
  return {
    store: options.store,
    runtime: benchRuntime(),
    events: options.events,
    checkpoints: m.codes.length,
    fillMs: Math.round(m.filledMs),
    storeMb: m.storeMb,
    statsP50Ms: m.stats.p50,
    statsP95Ms: m.stats.p95,
    logPageP50Ms: round(percentile(m.all, 50), 2),
    logPageP95Ms: round(percentile(m.all, 95), 2),
    logPageShapesP95Ms: m.shapesP95,
    retentionEvents: m.pass.events,
    retentionWholePass: !m.pass.interrupted,
    retentionWindowMs: options.retentionWindowMs ?? null,
    retentionMs: m.pass.ms,
    retentionBatches: m.pass.batches,
    retentionLongestBatchMs: m.pass.longestBatchMs,
    retentionBatchP95Ms: m.batches.wallP95Ms,
    retentionBatchCpuP95Ms: m.batches.cpuP95Ms,
    retentionBatchCpuMaxMs: m.batches.cpuMaxMs,
    retentionEventsPerSec: Math.round((m.pass.events / Math.max(1, m.pass.ms)) * 1000),
    ingestEvents: m.stalls.events,
    insertStallMaxMs: m.stalls.maxGapMs,
    insertStallP99Ms: m.stalls.p99GapMs,
    insertBehindMaxMs: m.stalls.maxBehindMs,
    insertEventLoopDelayMaxMs: m.stalls.eventLoopDelayMaxMs,
    insertStallLongest: m.longestGaps,
    baselineMs: options.baselineMs ?? defaultBaselineMs,
    baselineStallMaxMs: m.baseline.maxGapMs,
    baselineStallP99Ms: m.baseline.p99GapMs,
    baselineStallLongestMs: m.baseline.longestGaps.map((gap) => round(gap.gapMs, 1)),
  };
}

interface Timed {
  readonly p50: number;
  readonly p95: number;
  readonly samples: number[];
}

async function timeCalls(requests: number, call: () => Promise<unknown>): Promise<Timed> {
  for (let i = 0; i < warmupRequests; i++) await call();
  const samples: number[] = [];
  for (let i = 0; i < requests; i++) {
    const started = performance.now();
    await call();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50: round(percentile(samples, 50), 2), p95: round(percentile(samples, 95), 2), samples };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The same checkpoints and days every run, so runs compare. */
function seeded(seed: number): (max: number) => number {
  let state = seed >>> 0;
  return (max) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % max;
  };
}
