import { join } from 'node:path';
import { createToken } from '../../../broker/access/tokens.js';
import { withCentralStore } from '../../../broker/config.js';
import { withRegistry } from '../../../broker/registry/registryDb.js';
import { loadTerminalConfig } from '../../../gateway/config.js';
import type { Logger } from '../../../protocol/logger.js';
import { createCheckpoint } from '../../../broker/registry/checkpoints.js';
import { addTerminal } from '../../../provisioning/terminals.js';
import { BenchChild } from './child.js';
import { mapConcurrently, writeBenchSite, type BenchSiteStore, type BenchTarget, type BenchTerminal } from './target.js';
import { centralNodeFlags } from '../../../broker/nodeFlags.js';

export interface CentralTargetOptions {
  readonly dir: string;
  /** The qrgate entry the children run (the bench's own). */
  readonly entry: string;
  readonly terminalIds: readonly string[];
  /** For the provisioning's store log lines (warnings only). */
  readonly logger: Logger;
  readonly log: (line: string) => void;
  /** The central store the events go into; default SQLite. */
  readonly store?: BenchSiteStore;
  /** Runs on the site before the central starts (bench console fills its store here). */
  readonly beforeStart?: (site: ReturnType<typeof writeBenchSite>) => Promise<void>;
}

/**
 * scrypt runs on libuv's thread pool (4 threads by default): more hashes at once only queue.
 * The central verifies the same hashes when the terminals connect.
 */
const provisioningConcurrency = 4;
const readyTimeoutMs = 60_000;

/**
 * Our central as a child process (`qrgate central --config …`, so its memory is its own),
 * provisioned the way an operator does it while it runs: one checkpoint, then each terminal
 * through provisioning/terminals.ts (a random secret, its scrypt hash in the store, a
 * terminal config written to disk). The terminals use the credentials from those configs.
 */
export async function startCentralTarget(options: CentralTargetOptions): Promise<BenchTarget & { readonly httpPort: number }> {
  const site = writeBenchSite(options.dir, options.store);
  await options.beforeStart?.(site);
  const central = new BenchChild(options.entry, ['central', '--config', site.configFile], { nodeFlags: centralNodeFlags });
  try {
    const ready = await central.waitForLine((line) => line.msg === 'central.ready', readyTimeoutMs, 'central.ready');
    const mqttPort = (ready.mqtt as { port: number }).port;
    const httpPort = (ready.http as { port: number }).port;
    const url = `mqtt://127.0.0.1:${mqttPort}`;

    const started = performance.now();
    const terminals = await withCentralStore(site.config, { logger: options.logger }, async (store) => {
      const checkpoint = await createCheckpoint(store, { name: 'Bench e2e', direction: 'in', confirm: 'auto' });
      const provision = async (terminalId: string): Promise<BenchTerminal> => {
        const added = await addTerminal({
          config: site.config,
          store,
          checkpointCode: checkpoint.code,
          url,
          outFile: join(options.dir, 'terminals', `${terminalId}.json`),
          terminalId,
        });
        const central = loadTerminalConfig(added.configFile).central;
        if (!central) throw new Error(`terminals add wrote no central section for ${terminalId}`);
        return { terminalId, checkpointCode: checkpoint.code, central };
      };
      // The first one alone: it creates the shared keys folder the others only compare against.
      const [first, ...rest] = options.terminalIds;
      if (first === undefined) return [];
      return [await provision(first), ...(await mapConcurrently(rest, provisioningConcurrency, provision))];
    });
    options.log(`central up on ${url}; ${terminals.length} terminals provisioned in ${Math.round(performance.now() - started)} ms`);
    // The bench reads /metrics as Prometheus would: with a read-only token of its own.
    const metricsToken = (await withRegistry(site.config, (db) => createToken(db, { name: 'bench e2e', role: 'inspector', readOnly: true, createdBy: 'bench' }))).token;

    return {
      kind: 'qrgate-central',
      httpPort,
      terminals,
      store: site.store,
      brokerPid: central.pid,
      ingestPid: null,
      async memory() {
        const memory = await central.memory();
        return { broker: { pid: central.pid, peakRssMb: memory?.peakRssMb ?? null }, ingest: null };
      },
      async stop() {
        const redeliveries = await scrapeCounter(httpPort, metricsToken, 'qrgate_events_duplicate_total').catch((err: unknown) => {
          options.log(`could not read the redeliveries from /metrics: ${(err as Error).message}`);
          return null;
        });
        const code = await central.stop();
        if (code !== 0) options.log(`central exited with code ${code}`);
        return { redeliveries };
      },
    };
  } catch (err) {
    await central.stop();
    throw err;
  }
}

/** One unlabelled counter from the central's `/metrics` (Prometheus text format). */
async function scrapeCounter(httpPort: number, token: string, name: string): Promise<number | null> {
  const response = await fetch(`http://127.0.0.1:${httpPort}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`GET /metrics: ${response.status}`);
  const text = await response.text();
  const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}
