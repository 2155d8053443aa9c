import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { withCentralStore } from '../../../broker/config.js';
import { writeMosquittoConfig } from '../../../broker/mosquitto/mosquittoConfig.js';
import { createCheckpoint } from '../../../broker/registry/checkpoints.js';
import { loadTerminalConfig } from '../../../gateway/config.js';
import type { Logger } from '../../../protocol/logger.js';
import { addTerminal } from '../../../provisioning/terminals.js';
import { passwordEnv } from '../../commands/ingest.js';
import { discardIngestSession } from '../../../broker/ingestion/mqttWorker.js';
import { uplinkConfigSchema } from '../../../gateway/uplink/config.js';
import { generateCheckpointCode } from '../../../protocol/checkpointCode.js';
import { terminalTopic } from '../../../protocol/topics.js';
import { processMemoryMb } from '../stats.js';
import { BenchChild } from './child.js';
import { mapConcurrently, writeBenchSite, type BenchSiteStore, type BenchTarget, type BenchTerminal } from './target.js';

export interface ExternalTargetOptions {
  readonly dir: string;
  readonly entry: string;
  readonly terminalIds: readonly string[];
  /** `mqtt://host:port` of the third-party broker. */
  readonly url: string;
  /**
   * The broker's pid when the bench started it (mosquittoChild.ts), for its memory; null for
   * a broker someone else runs, whose memory is not this run's to report.
   */
  readonly brokerPid: number | null;
  /** Unique per run: the worker's persistent session on a shared broker. */
  readonly clientId: string;
  /** The terminals' `central.receipts`: rows leave their outboxes on the worker's receipt, not on the broker's PUBACK. */
  readonly receipts: boolean;
  readonly log: (line: string) => void;
  /** The central store the events go into; default SQLite. */
  readonly store?: BenchSiteStore;
}

/**
 * A Mosquitto the bench starts once it knows who may log in: the terminals are provisioned
 * as an operator does it (`terminals add`), `qrgate mosquitto-config` writes the password and
 * ACL files, and the broker starts on them, so both sides authenticate as in production.
 */
export interface SecuredBrokerOptions {
  readonly dir: string;
  readonly entry: string;
  readonly terminalIds: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
  readonly log: (line: string) => void;
  /** The central store the events go into; default SQLite. */
  readonly store?: BenchSiteStore;
  /** The terminals' `central.receipts` (ExternalTargetOptions). */
  readonly receipts: boolean;
  /** Starts the broker with these mosquitto.conf security lines (mosquittoChild.ts). */
  readonly startBroker: (security: string) => Promise<{ readonly url: string; readonly pid: number }>;
}

export async function startSecuredMosquittoTarget(options: SecuredBrokerOptions): Promise<BenchTarget> {
  const site = writeBenchSite(options.dir, options.store);
  const started = performance.now();
  const { terminals, files } = await withCentralStore(site.config, { logger: options.logger }, async (store) => {
    const checkpoint = await createCheckpoint(store, { name: 'Bench e2e', direction: 'in', confirm: 'auto' });
    // The URL is not known before the broker runs: the configs name a placeholder, replaced below.
    const provision = async (terminalId: string): Promise<BenchTerminal> => {
      const added = await addTerminal({ config: site.config, store, checkpointCode: checkpoint.code, url: 'mqtt://127.0.0.1:1883', outFile: join(options.dir, 'terminals', `${terminalId}.json`), terminalId });
      const central = loadTerminalConfig(added.configFile).central;
      if (!central) throw new Error(`terminals add wrote no central section for ${terminalId}`);
      return { terminalId, checkpointCode: checkpoint.code, central };
    };
    const [first, ...rest] = options.terminalIds;
    // The first one alone: it creates the shared keys folder the others only compare against.
    const provisioned = first === undefined ? [] : [await provision(first), ...(await mapConcurrently(rest, 4, provision))];
    return { terminals: provisioned, files: await writeMosquittoConfig({ store, dataDir: site.config.dataDir, outDir: join(options.dir, 'mosquitto') }) };
  });
  if (files.needRotation.length > 0 || files.centralPasswordFile === null) throw new Error('mosquitto-config left terminals or the central account out');
  const broker = await options.startBroker(readFileSync(files.confFile, 'utf8'));
  options.log(`${terminals.length} terminals provisioned and written for Mosquitto in ${Math.round(performance.now() - started)} ms`);
  return runWorker({
    site,
    entry: options.entry,
    url: broker.url,
    clientId: options.clientId,
    log: options.log,
    brokerPid: broker.pid,
    terminals: terminals.map((t) => ({ ...t, central: { ...t.central, url: broker.url, receipts: options.receipts } })),
    receipts: options.receipts,
    account: { username: files.centralUsername, password: readFileSync(files.centralPasswordFile, 'utf8').trim() },
    // A broker of the bench's own dies with the run, its sessions and retained messages with it.
    cleanUp: () => Promise.resolve(),
  });
}

const readyTimeoutMs = 60_000;

/**
 * A third-party broker (Mosquitto, EMQX) with the standalone ingestion worker as a child
 * process (`qrgate ingest`, so its memory is its own) writing into a fresh store. The broker
 * has no accounts for the terminals (anonymous access): the uplink still sends its username,
 * which such a broker ignores. Afterwards the broker is left as it was found: the worker's
 * session is discarded and the retained statuses the terminals left are deleted.
 */
export async function startExternalTarget(options: ExternalTargetOptions): Promise<BenchTarget> {
  const site = writeBenchSite(options.dir, options.store);
  const checkpointCode = generateCheckpointCode();
  const terminals: BenchTerminal[] = options.terminalIds.map((terminalId) => ({
    terminalId,
    checkpointCode,
    central: uplinkConfigSchema.parse({ url: options.url, username: terminalId, password: 'anonymous', receipts: options.receipts }),
  }));
  if (options.brokerPid === null) options.log('a broker the bench did not start: its memory is not reported');
  const cleanUp = async (): Promise<void> => {
    await discardIngestSession({ url: options.url, clientId: options.clientId }).catch((err: Error) => options.log(`could not discard the worker session: ${err.message}`));
    await deleteRetainedStatuses(options.url, terminals).catch((err: Error) => options.log(`could not delete retained statuses: ${err.message}`));
  };
  return runWorker({ site, entry: options.entry, url: options.url, clientId: options.clientId, log: options.log, brokerPid: options.brokerPid, terminals, account: null, receipts: options.receipts, cleanUp });
}

interface WorkerOptions {
  readonly site: ReturnType<typeof writeBenchSite>;
  readonly entry: string;
  readonly url: string;
  readonly clientId: string;
  readonly log: (line: string) => void;
  readonly brokerPid: number | null;
  readonly terminals: readonly BenchTerminal[];
  /** The central account on the broker; null: anonymous. */
  readonly account: { readonly username: string; readonly password: string } | null;
  readonly receipts: boolean;
  /** Leaves the broker as it was found. */
  readonly cleanUp: () => Promise<void>;
}

/** `qrgate ingest` against the broker, as the target's server side. */
async function runWorker(options: WorkerOptions): Promise<BenchTarget> {
  const { site, brokerPid, terminals, account, cleanUp } = options;
  const worker = new BenchChild(
    options.entry,
    ['ingest', '--central-config', site.configFile, '--broker', options.url, '--client-id', options.clientId, ...(account ? ['--username', account.username] : [])],
    account ? { env: { [passwordEnv]: account.password } } : {},
  );
  try {
    await worker.waitForLine((line) => line.msg === 'ingest.ready', readyTimeoutMs, 'ingest.ready');
  } catch (err) {
    await worker.stop();
    await cleanUp();
    throw err;
  }
  options.log(`ingest worker subscribed at ${options.url} as ${options.clientId}${account ? ` (user ${account.username})` : ''}; terminals ${options.receipts ? 'with' : 'WITHOUT'} receipts`);

  return {
    kind: 'external',
    terminals,
    store: site.store,
    brokerPid,
    ingestPid: worker.pid,
    async memory() {
      const ingest = await worker.memory();
      const broker = brokerPid === null ? null : await readPeak(brokerPid);
      return {
        broker: brokerPid === null ? null : { pid: brokerPid, peakRssMb: broker },
        ingest: { pid: worker.pid, peakRssMb: ingest?.peakRssMb ?? null },
      };
    },
    async stop() {
      const code = await worker.stop();
      if (code !== 0) options.log(`ingest worker exited with code ${code}`);
      // The worker logs its counters once more on the way out.
      const stats = worker.last('ingest.stats');
      const redeliveries = typeof stats?.qrgate_events_duplicate_total === 'number' ? stats.qrgate_events_duplicate_total : null;
      await cleanUp();
      return { redeliveries };
    },
  };
}

function readPeak(pid: number): Promise<number | null> {
  return processMemoryMb(pid).then(
    (memory) => memory.peakRssMb,
    () => null,
  );
}

/** An empty retained publish deletes the retained message [MQTT-3.3.1-10]. */
async function deleteRetainedStatuses(url: string, terminals: readonly BenchTerminal[]): Promise<void> {
  const client = await connectAsync(url, { protocolVersion: 4, clean: true, reconnectPeriod: 0, connectTimeout: 10_000, log: () => undefined });
  try {
    await Promise.all(terminals.map((t) => client.publishAsync(terminalTopic(t.checkpointCode, t.terminalId, 'status'), '', { qos: 1, retain: true })));
  } finally {
    await client.endAsync(false);
  }
}
