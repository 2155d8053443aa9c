import { join } from 'node:path';
import { centralDbFileName, loadCentralConfig, type CentralConfig } from '../../../broker/config.js';
import type { UplinkConfig } from '../../../gateway/uplink/config.js';
import { writeLocalCentral } from '../../../provisioning/localCentral.js';
import type { AuditedStore } from './storeAudit.js';

/** The central store a bench site uses: SQLite in its data folder, or a PostgreSQL database (the bench's own, e2eBench.ts). */
export type BenchSiteStore = { readonly type: 'sqlite' } | { readonly type: 'postgres'; readonly url: string };

/** One simulated terminal as the target set it up: identity and its `central` section. */
export interface BenchTerminal {
  readonly terminalId: string;
  readonly checkpointCode: string;
  readonly central: UplinkConfig;
}

export interface ProcessMemory {
  readonly pid: number;
  /** VmHWM read at the end of the run. */
  readonly peakRssMb: number | null;
}

/**
 * Where the simulated terminals publish and where their events end up: our central
 * (centralTarget.ts) or a third-party broker with the standalone ingestion worker
 * (externalTarget.ts). Both write to a SQLite store the bench reads back afterwards.
 */
export interface BenchTarget {
  readonly kind: 'qrgate-central' | 'external';
  readonly terminals: readonly BenchTerminal[];
  /** The store holding the events, for the audit. */
  readonly store: AuditedStore;
  /** Pids to sample while the bench runs: the broker's, and the worker's when it is separate. */
  readonly brokerPid: number | null;
  readonly ingestPid: number | null;
  /** Peak resident sets, read before `stop()`. */
  memory(): Promise<{ broker: ProcessMemory | null; ingest: ProcessMemory | null }>;
  /** Stops the server side; resolves with the ingestion's redelivery count (events received again, deduplicated). */
  stop(): Promise<{ redeliveries: number | null }>;
}

/**
 * A loopback central folder (provisioning/localCentral.ts), with its store's path (the SQLite
 * file, where a SQLite store would be) and where the audit reads the events.
 */
export function writeBenchSite(dir: string, store: BenchSiteStore = { type: 'sqlite' }): { configFile: string; config: CentralConfig; storeFile: string; store: AuditedStore } {
  const configFile = writeLocalCentral(dir, { log: { level: 'info' }, store: store.type === 'sqlite' ? store : { ...store, schema: 'public' } });
  const config = loadCentralConfig(configFile);
  const storeFile = join(config.dataDir, centralDbFileName);
  return { configFile, config, storeFile, store: store.type === 'sqlite' ? { type: 'sqlite', file: storeFile } : store };
}

/** Runs `work` over `items` with at most `limit` at a time, results in input order. */
export async function mapConcurrently<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
