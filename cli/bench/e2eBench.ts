import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../protocol/logger.js';
import { startCentralTarget } from './e2e/centralTarget.js';
import { benchRuntime } from './e2e/child.js';
import { startExternalTarget, startSecuredMosquittoTarget } from './e2e/externalTarget.js';
import { startMosquitto, type MosquittoChild } from './e2e/mosquittoChild.js';
import type { PacedRecordResult } from './e2e/load.js';
import { CpuMeter, RssSampler } from './e2e/procStats.js';
import { openStoreReader, type StoreAudit, type StoreReader } from './e2e/storeAudit.js';
import type { BenchSiteStore, BenchTarget } from './e2e/target.js';
import { scratchDatabase } from './store/scratchDatabase.js';
import { defaultBenchPostgresUrl, type BenchStoreType } from './storeBench.js';
import { TerminalShares } from './e2e/terminalShares.js';
import { percentile, processMemoryMb, round } from './stats.js';

export interface E2eBenchOptions {
  readonly terminals: number;
  /** Decisions recorded in total, spread evenly over the terminals. */
  readonly events: number;
  /** Aggregate decisions per second while the uplinks drain; 0 = as fast as the recorder goes. */
  readonly ratePerSec: number;
  /** Decisions in a row at one terminal (load.ts): roughly the events per publish. */
  readonly burst: number;
  /** Child processes running the simulated terminals (terminalsIpc.ts says why). */
  readonly loadProcesses: number;
  /** Record everything first, then connect: a drain benchmark instead of a steady state. */
  readonly backlog: boolean;
  /**
   * A third-party broker: `mosquitto` starts one of the bench's own (mosquittoChild.ts), whose
   * memory is then reported, with the password and ACL files `qrgate mosquitto-config` writes
   * for the terminals and the worker (docs/mosquitto.md); a URL (`mqtt://host:port`) uses one running already, whose
   * memory is not. Without it our central runs as a child process.
   */
  readonly broker?: { readonly url: string } | 'mosquitto';
  /**
   * Behind a third-party broker, the terminals run with `central.receipts` (outbox rows leave
   * on the store's receipt) unless this is false: then they trust the broker's PUBACK, as
   * before receipts, and lose what the broker loses. Our central needs none and gets none.
   */
  readonly receipts?: boolean;
  /** After the last decision, how long to wait for every event to be stored, ms. */
  readonly drainTimeoutMs: number;
  /**
   * The central store, on both targets (our central's, and `qrgate ingest`'s behind a
   * third-party broker). Default sqlite.
   */
  readonly store?: BenchStoreType;
  /**
   * With store postgres: the server the bench makes a database of its own on (and drops at
   * the end), a connection string to a database its user may CREATE DATABASE from.
   */
  readonly postgresUrl?: string;
  /** The qrgate entry for the child processes. Default: the one this process runs (`process.argv[1]`). */
  readonly entry?: string;
  readonly log?: (line: string) => void;
}

export interface E2eBenchResult {
  readonly broker: BenchTarget['kind'];
  readonly store: BenchStoreType;
  /** The terminals' `central.receipts`. */
  readonly receipts: boolean;
  readonly runtime: 'node-dist' | 'tsx';
  readonly terminals: number;
  /** Decisions recorded in the outboxes. */
  readonly events: number;
  /** Of them, rows in the store at the end. */
  readonly stored: number;
  /** stored / window. */
  readonly eventsPerSec: number;
  readonly windowMs: number;
  /** Steady state: from the first decision; backlog: from the first stored row (connecting is not draining). */
  readonly windowStart: 'first-decision' | 'first-stored';
  /** Per event, central `received_at` minus the terminal's `ts`. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Recorded decisions not in the store at the end. */
  readonly lost: number;
  /** Of those, the ones no outbox holds any more: the broker acknowledged them and they never reached the store. */
  readonly lostAfterAck: number;
  /** Rows beyond one per recorded decision. */
  readonly duplicated: number;
  /** Rows of the bench's terminals that match no recorded decision. */
  readonly unexpected: number;
  /** Events the ingestion received again and deduplicated (its duplicate counter); null if unreadable. */
  readonly redeliveries: number | null;
  /** Peak resident set (VmHWM) of the broker the bench started: our central, or its own Mosquitto; null for a broker running already. */
  readonly brokerRssMb: number | null;
  /** Largest resident set of the broker sampled during this run (every 500 ms). */
  readonly brokerRssSampledMb: number | null;
  /** Peak resident set of the standalone worker; null for our central (ingestion runs inside it). */
  readonly ingestRssMb: number | null;
  /** Peak resident sets of the simulated terminals' processes, summed. */
  readonly terminalsRssMb: number | null;
  /** CPU over the measured phase, % of one core (200 = both cores of a 2-core machine). */
  readonly brokerCpuPct: number | null;
  readonly ingestCpuPct: number | null;
  /** The simulated terminals' processes (outboxes and uplinks), summed. */
  readonly terminalsCpuPct: number | null;
  readonly loadProcesses: number;
  /** The rate asked for and the one the recorder achieved, decisions/s. */
  readonly rate: number;
  readonly burst: number;
  readonly recordPerSec: number;
  readonly recordMs: number;
  /** From the last decision to the last stored row; null if nothing was stored. */
  readonly drainMs: number | null;
  /** How the wait for the store ended. */
  readonly drain: DrainOutcome;
  /** Time for every uplink to connect (central: includes scrypt checks of every secret). */
  readonly connectMs: number;
}

type DrainOutcome = 'complete' | 'stalled' | 'timeout';

/** Outboxes empty and the store count unmoved this long: nothing is on its way any more. */
const stallMs = 15_000;
const drainPollMs = 100;

/**
 * `qrgate bench e2e`: N simulated terminals (real outboxes and uplinks, in a few child
 * processes) -> a broker -> ingestion -> the central store, measured from the store itself.
 * The broker is our central (`qrgate central` child, real per-terminal auth) or, with
 * `--broker`, a third-party broker with the standalone worker (`qrgate ingest` child).
 * Loopback only; everything it starts is stopped and its temp folder removed, whatever happens.
 */
export async function runE2eBench(options: E2eBenchOptions): Promise<E2eBenchResult> {
  const log = options.log ?? (() => {});
  const entry = options.entry ?? process.argv[1]!;
  const dir = mkdtempSync(join(tmpdir(), 'qrgate-bench-e2e-'));
  // Terminal ids and the worker's client id are unique per run: a shared broker may hold
  // sessions and retained messages of other runs.
  const run = randomBytes(4).toString('hex');
  const prefix = `b${run}`;
  const terminalIds = Array.from({ length: options.terminals }, (_, i) => `${prefix}-${String(i + 1).padStart(5, '0')}`);
  // Provisioning warnings only, on stderr: stdout carries the result.
  const logger = createLogger({ level: 'warn', destination: process.stderr });

  // Set inside startBroker below, which TypeScript's narrowing does not follow.
  let mosquitto = null as MosquittoChild | null;
  let target: BenchTarget | null = null;
  let shares: TerminalShares | null = null;
  let sampler: RssSampler | null = null;
  let stopped = false;
  let database: Awaited<ReturnType<typeof scratchDatabase>> | null = null;
  try {
    const storeType = options.store ?? 'sqlite';
    if (storeType === 'postgres') database = await scratchDatabase(options.postgresUrl ?? defaultBenchPostgresUrl, 'qrgate_bench_e2e');
    const store: BenchSiteStore = database ? { type: 'postgres', url: database.url } : { type: 'sqlite' };
    const targetOptions = { dir: join(dir, 'site'), entry, terminalIds, log, store };
    const { broker } = options;
    const clientId = `qrgate-bench-${run}`;
    const receipts = options.receipts ?? true;
    if (broker === 'mosquitto') {
      // Per-terminal passwords and ACL from `mosquitto-config`: both sides authenticate.
      const startBroker = async (security: string): Promise<MosquittoChild> => (mosquitto = await startMosquitto(dir, log, { security }));
      target = await startSecuredMosquittoTarget({ ...targetOptions, clientId, logger, receipts, startBroker });
    } else if (broker) {
      target = await startExternalTarget({ ...targetOptions, url: broker.url, brokerPid: null, clientId, receipts });
    } else {
      target = await startCentralTarget({ ...targetOptions, logger });
    }
    const server = target;
    sampler = new RssSampler(() => [server.brokerPid, server.ingestPid].filter((pid): pid is number => pid !== null));
    sampler.start();

    shares = TerminalShares.start({ entry, dir: join(dir, 'terminals'), terminals: target.terminals, events: options.events, burst: options.burst, processes: options.loadProcesses });
    const cpu = new CpuMeter([target.brokerPid, target.ingestPid, ...shares.pids].filter((pid): pid is number => pid !== null));

    let recorded: PacedRecordResult;
    let connectMs: number;
    if (options.backlog) {
      recorded = await shares.prefill();
      log(`backlog: ${options.events} decisions recorded in ${Math.round(recorded.durationMs)} ms`);
      await cpu.start();
      connectMs = await shares.connect();
    } else {
      connectMs = await shares.connect();
      log(`${options.terminals} terminals connected in ${Math.round(connectMs)} ms; recording at ${options.ratePerSec || 'max'} decisions/s`);
      await cpu.start();
      recorded = await shares.record(options.ratePerSec);
    }
    log(`${options.events} decisions recorded in ${Math.round(recorded.durationMs)} ms; waiting for the store`);

    const reader = openStoreReader(target.store, prefix, terminalIds);
    const drain = await waitForStore(reader, shares, options.events, options.drainTimeoutMs).finally(() => reader.close());
    const cpuPct = await cpu.stop();
    log(`drain ${drain}`);

    const memory = await target.memory();
    const terminalsRssMb = await peakSumMb(shares.pids);
    stopped = true;
    const { recorded: recordedByTerminal, outboxLeft } = await shares.stop();
    const { redeliveries } = await target.stop();
    await sampler.stop();

    // After the run, from the file, on a connection of our own.
    const audit = await withReader(openStoreReader(target.store, prefix, terminalIds), (r) => r.audit(recordedByTerminal));
    const events = [...recordedByTerminal.values()].reduce((a, b) => a + b, 0);
    const windowStartMs = options.backlog ? audit.firstReceivedMs : recorded.firstMs;
    const windowMs = Math.max(1, audit.lastReceivedMs - windowStartMs);
    const pct = (pid: number | null): number | null => (pid === null ? null : (cpuPct.get(pid) ?? null));
    return {
      broker: target.kind,
      store: storeType,
      receipts: target.terminals.some((t) => t.central.receipts),
      runtime: benchRuntime(),
      terminals: options.terminals,
      events,
      stored: audit.stored,
      eventsPerSec: audit.stored === 0 ? 0 : Math.round((audit.stored / windowMs) * 1000),
      windowMs,
      windowStart: options.backlog ? 'first-stored' : 'first-decision',
      ...latency(audit),
      lost: audit.lost,
      lostAfterAck: Math.max(0, audit.lost - outboxLeft),
      duplicated: audit.duplicated,
      unexpected: audit.unexpected,
      redeliveries,
      brokerRssMb: memory.broker?.peakRssMb ?? null,
      brokerRssSampledMb: sampler.maxMb(target.brokerPid),
      ingestRssMb: memory.ingest?.peakRssMb ?? null,
      terminalsRssMb,
      brokerCpuPct: pct(target.brokerPid),
      ingestCpuPct: pct(target.ingestPid),
      terminalsCpuPct: sumOrNull(shares.pids.map(pct)),
      loadProcesses: shares.pids.length,
      rate: options.ratePerSec,
      burst: options.burst,
      recordPerSec: Math.round((events / recorded.durationMs) * 1000),
      recordMs: Math.round(recorded.durationMs),
      drainMs: audit.stored === 0 ? null : audit.lastReceivedMs - recorded.lastMs,
      drain,
      connectMs: Math.round(connectMs),
    };
  } finally {
    // On a failed run: nothing the bench started may outlive it.
    if (!stopped) {
      await shares?.kill();
      await target?.stop().catch(() => undefined);
    }
    await sampler?.stop();
    await mosquitto?.stop();
    await database?.drop().catch((err: Error) => log(`could not drop the bench database: ${err.message}`));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function peakSumMb(pids: readonly number[]): Promise<number | null> {
  const peaks = await Promise.all(pids.map((pid) => processMemoryMb(pid).then((m) => m.peakRssMb, () => null)));
  return sumOrNull(peaks);
}

function sumOrNull(values: readonly (number | null)[]): number | null {
  return values.some((v) => v === null) ? null : round(values.reduce<number>((a, b) => a + (b ?? 0), 0), 1);
}

function latency(audit: StoreAudit): { p50Ms: number; p99Ms: number; maxMs: number } {
  return {
    p50Ms: round(percentile(audit.latenciesMs, 50)),
    p99Ms: round(percentile(audit.latenciesMs, 99)),
    maxMs: round(audit.latenciesMs.at(-1) ?? Number.NaN),
  };
}

async function withReader<T>(reader: StoreReader, read: (reader: StoreReader) => Promise<T>): Promise<T> {
  try {
    return await read(reader);
  } finally {
    await reader.close();
  }
}

/**
 * Waits until the store holds every recorded event, or nothing moves any more (outboxes
 * empty, store count unchanged for `stallMs`: what is missing is not coming), or the deadline.
 */
async function waitForStore(reader: StoreReader, shares: TerminalShares, total: number, timeoutMs: number): Promise<DrainOutcome> {
  const deadline = performance.now() + timeoutMs;
  let lastCount = -1;
  let lastMoveMs = performance.now();
  for (;;) {
    // An outbox empties only on PUBACKs (receipts, with central.receipts); only then is the store worth counting.
    if ((await shares.depth()) === 0) {
      const count = await reader.count();
      if (count >= total) return 'complete';
      if (count !== lastCount) {
        lastCount = count;
        lastMoveMs = performance.now();
      } else if (performance.now() - lastMoveMs > stallMs) {
        return 'stalled';
      }
    } else {
      lastMoveMs = performance.now();
    }
    if (performance.now() > deadline) return 'timeout';
    await new Promise((resolve) => setTimeout(resolve, drainPollMs));
  }
}
