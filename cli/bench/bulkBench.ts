import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSecret, hashSecret } from '../../broker/auth/secrets.js';
import Database from 'better-sqlite3';
import { centralDbFileName, loadCentralConfig, withCentralStore } from '../../broker/config.js';
import { createCheckpoint } from '../../broker/registry/checkpoints.js';
import type { Logger } from '../../protocol/logger.js';
import { writeLocalCentral } from '../../provisioning/localCentral.js';
import { writeSampleMembersCsv } from '../../provisioning/membersSample.js';
import { EventPublishers, type AckSample, type PublisherTerminal } from './bulk/eventPublishers.js';
import { childProbeFlags, LoopProbe, probeLineMsg, type LoopSample } from './bulk/loopProbe.js';
import { BenchChild, runQrgate } from './e2e/child.js';
import { percentile, round } from './stats.js';
import { centralNodeFlags } from '../../broker/nodeFlags.js';

export interface BulkBenchOptions {
  /** Rows of the members file imported while the load runs. */
  readonly members: number;
  /** Events per second the terminals publish throughout. */
  readonly eventsPerSec: number;
  readonly terminals: number;
  /** Most events per publish (the uplink's batchSize). */
  readonly batchSize: number;
  /** Seconds of load measured before the bulk work starts (the baseline). */
  readonly baselineSeconds: number;
  /** The qrgate entry for the children. Default: the one this process runs. */
  readonly entry?: string;
  /** A folder for a V8 CPU profile of the central (`node --cpu-prof`), written when the bench stops it. */
  readonly centralCpuProfileDir?: string;
  readonly logger: Logger;
  readonly log: (line: string) => void;
}

export interface BulkBenchResult {
  readonly members: number;
  readonly eventsPerSec: number;
  readonly terminals: number;
  /** Publish to PUBACK with only the load running, ms. */
  readonly baselineP50Ms: number;
  readonly baselineP99Ms: number;
  readonly baselineMaxMs: number;
  readonly baselinePublishes: number;
  /** Publish to PUBACK while `members import` and then the first `lists publish` ran, ms. */
  readonly bulkP50Ms: number;
  readonly bulkP99Ms: number;
  readonly bulkMaxMs: number;
  /** Publishes acknowledged while the bulk work ran. */
  readonly bulkPublishes: number;
  /** `qrgate members import` of the whole file, wall time, ms. */
  readonly importMs: number;
  /** The first `qrgate lists publish` of the imported scope, wall time, ms. */
  readonly publishMs: number;
  /** The central's `ingest.commit-failed` lines over the run: commits that failed (a busy lock past its timeout). */
  readonly commitsFailed: number;
  /** Terminal connections lost after login. */
  readonly connectionsDropped: number;
  /** Publishes refused or failed at the terminal. */
  readonly publishesFailed: number;
  /** Decisions made over the run, and of them, still waiting in an outbox at the end (the central fell behind). */
  readonly eventsDecided: number;
  readonly eventsWaiting: number;
  /** Events the terminals saw acknowledged. */
  readonly eventsAcked: number;
  /** Events in central.db at the end: at least every acknowledged one (a PUBACK means stored). */
  readonly eventsStored: number;
  /**
   * Event-loop delay and CPU of the central and of the bench's terminals, over the baseline and
   * over the bulk work: a PUBACK is timed on the terminals' loop, so their lag is in it.
   */
  readonly centralBaseline: LoopSample;
  readonly centralBulk: LoopSample;
  readonly clientsBaseline: LoopSample;
  readonly clientsBulk: LoopSample;
}

const scope = 'bulk';

/**
 * `qrgate bench bulk` (issue 15 point 3): a live central takes a steady stream of events
 * from its terminals while the heaviest registry work runs beside it — a members import of
 * a million rows, then the first publish of their list, both as the operator runs them (the
 * CLI, its own process, the same central.db). What a terminal feels is the time from its
 * publish to the PUBACK, which our central sends only once the events are stored.
 */
export async function runBulkBench(options: BulkBenchOptions): Promise<BulkBenchResult> {
  const entry = options.entry ?? process.argv[1]!;
  const dir = mkdtempSync(join(tmpdir(), 'qrgate-bench-bulk-'));
  let central: BenchChild | null = null;
  let publishers: EventPublishers | null = null;
  try {
    const configFile = writeLocalCentral(dir, { mqtt: { host: '127.0.0.1', port: 0 } });
    const config = loadCentralConfig(configFile);
    const membersCsv = join(dir, 'members.csv');
    await writeSampleMembersCsv(membersCsv, options.members, { scopes: [scope] });
    options.log(`wrote ${options.members} members`);

    const terminals = await withCentralStore(config, { logger: options.logger }, async (store) => {
      const checkpoint = await createCheckpoint(store, { name: 'Bench bulk', direction: 'in', confirm: 'auto' });
      const list: PublisherTerminal[] = [];
      for (let i = 0; i < options.terminals; i++) {
        const terminalId = `bulk-${String(i).padStart(4, '0')}`;
        const secret = generateSecret();
        await store.addTerminal({ terminalId, checkpointCode: checkpoint.code, secretHash: await hashSecret(secret), listScopes: [] });
        list.push({ terminalId, checkpointCode: checkpoint.code, secret });
      }
      return list;
    });

    const profileFlags = options.centralCpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.centralCpuProfileDir}`];
    central = new BenchChild(entry, ['central', '--config', configFile], { nodeFlags: [...centralNodeFlags, ...childProbeFlags(), ...profileFlags] });
    const ready = await central.waitForLine((line) => line.msg === 'central.ready', 60_000, 'central.ready');
    const url = `mqtt://127.0.0.1:${(ready.mqtt as { port: number }).port}`;
    let commitsFailed = 0;
    central.onLine((line) => {
      if (line.msg === 'ingest.commit-failed') commitsFailed += 1;
    });

    publishers = new EventPublishers({ url, terminals, eventsPerSec: options.eventsPerSec, batchSize: options.batchSize, maxInFlight: 4 });
    await publishers.connect();
    publishers.start();
    options.log(`${options.terminals} terminals publishing ${options.eventsPerSec} events/s`);
    const clientProbe = new LoopProbe();
    await probe(central);
    await new Promise((resolve) => setTimeout(resolve, options.baselineSeconds * 1000));

    const bulkStarted = performance.now();
    const centralBaseline = await probe(central);
    const clientsBaseline = clientProbe.take();
    await runQrgate(entry, ['members', 'import', '--central-config', configFile, membersCsv, '--json']);
    const importMs = performance.now() - bulkStarted;
    options.log(`members import: ${Math.round(importMs)} ms`);
    const publishStarted = performance.now();
    await runQrgate(entry, ['lists', 'publish', '--central-config', configFile, '--scope', scope, '--json']);
    const publishMs = performance.now() - publishStarted;
    const bulkEnded = performance.now();
    const centralBulk = await probe(central);
    const clientsBulk = clientProbe.take();
    clientProbe.stop();
    options.log(`lists publish: ${Math.round(publishMs)} ms`);

    const eventsDecided = publishers.decided;
    const eventsWaiting = publishers.waiting;
    await publishers.stop();
    await central.stop();
    const samples = publishers.samples;
    return {
      members: options.members,
      eventsPerSec: options.eventsPerSec,
      terminals: options.terminals,
      ...latency('baseline', samples.filter((s) => s.sentAtMs < bulkStarted)),
      ...latency('bulk', samples.filter((s) => s.sentAtMs >= bulkStarted && s.sentAtMs < bulkEnded)),
      importMs: Math.round(importMs),
      publishMs: Math.round(publishMs),
      commitsFailed,
      connectionsDropped: publishers.dropped,
      publishesFailed: publishers.failed,
      eventsDecided,
      eventsWaiting,
      eventsAcked: publishers.acked,
      eventsStored: storedEvents(join(config.dataDir, centralDbFileName)),
      centralBaseline,
      centralBulk,
      clientsBaseline,
      clientsBulk,
    };
  } finally {
    await publishers?.stop().catch(() => undefined);
    await central?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The central's loop and CPU since the previous call (its probe answers SIGUSR2, loopProbe.ts). */
function probe(central: BenchChild): Promise<LoopSample> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error('the central did not answer its loop probe within 10 s'));
    }, 10_000);
    const stop = central.onLine((line) => {
      if (line.msg !== probeLineMsg) return;
      clearTimeout(timer);
      stop();
      const { msg: _msg, ...sample } = line;
      resolve(sample as unknown as LoopSample);
    });
    process.kill(central.pid, 'SIGUSR2');
  });
}

function storedEvents(file: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT count(*) FROM events').pluck().get() as number;
  } finally {
    db.close();
  }
}

function latency<P extends 'baseline' | 'bulk'>(prefix: P, samples: readonly AckSample[]): Record<`${P}P50Ms` | `${P}P99Ms` | `${P}MaxMs` | `${P}Publishes`, number> {
  const sorted = samples.map((s) => s.ackMs).sort((a, b) => a - b);
  const at = (p: number): number => (sorted.length === 0 ? 0 : round(percentile(sorted, p), 2));
  return {
    [`${prefix}P50Ms`]: at(50),
    [`${prefix}P99Ms`]: at(99),
    [`${prefix}MaxMs`]: at(100),
    [`${prefix}Publishes`]: sorted.length,
  } as Record<`${P}P50Ms` | `${P}P99Ms` | `${P}MaxMs` | `${P}Publishes`, number>;
}
