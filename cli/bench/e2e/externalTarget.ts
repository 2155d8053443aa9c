import { connectAsync } from 'mqtt';
import { discardIngestSession } from '../../../broker/ingestion/mqttWorker.js';
import { uplinkConfigSchema } from '../../../gateway/uplink/config.js';
import { generateCheckpointCode } from '../../../protocol/checkpointCode.js';
import { terminalTopic } from '../../../protocol/topics.js';
import { processMemoryMb } from '../stats.js';
import { BenchChild } from './child.js';
import { writeBenchSite, type BenchTarget, type BenchTerminal } from './target.js';

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
  const site = writeBenchSite(options.dir);
  const checkpointCode = generateCheckpointCode();
  const terminals: BenchTerminal[] = options.terminalIds.map((terminalId) => ({
    terminalId,
    checkpointCode,
    central: uplinkConfigSchema.parse({ url: options.url, username: terminalId, password: 'anonymous', receipts: options.receipts }),
  }));
  const { brokerPid } = options;
  if (brokerPid === null) options.log('a broker the bench did not start: its memory is not reported');

  const worker = new BenchChild(options.entry, ['ingest', '--central-config', site.configFile, '--broker', options.url, '--client-id', options.clientId]);
  const cleanUp = async (): Promise<void> => {
    await discardIngestSession({ url: options.url, clientId: options.clientId }).catch((err: Error) => options.log(`could not discard the worker session: ${err.message}`));
    await deleteRetainedStatuses(options.url, terminals).catch((err: Error) => options.log(`could not delete retained statuses: ${err.message}`));
  };
  try {
    await worker.waitForLine((line) => line.msg === 'ingest.ready', readyTimeoutMs, 'ingest.ready');
  } catch (err) {
    await worker.stop();
    await cleanUp();
    throw err;
  }
  options.log(`ingest worker subscribed at ${options.url} as ${options.clientId}; terminals ${options.receipts ? 'with' : 'WITHOUT'} receipts`);

  return {
    kind: 'external',
    terminals,
    storeFile: site.storeFile,
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
