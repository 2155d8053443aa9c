import { loadCentralConfig, openCentralStore } from '../../broker/config.js';
import { MqttIngestionWorker, defaultIngestClientId } from '../../broker/ingestion/mqttWorker.js';
import { MetricsRegistry } from '../../broker/metrics.js';
import { createBrokerMetrics } from '../../broker/mqtt/brokerMetrics.js';
import type { CentralStore } from '../../broker/store/centralStore.js';
import { createLogger } from '../../protocol/logger.js';
import { parseOptions, requireOption, UsageError, type Command } from '../command.js';
import { logFormatFrom, logFormatOption } from '../logFormat.js';

/** The broker password comes from the environment: a command line shows up in `ps` and shell history. */
export const passwordEnv = 'QRGATE_BROKER_PASSWORD';

/** How often the counters are logged (`ingest.stats`), ms. */
const statsIntervalMs = 10_000;

function brokerUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--broker ${JSON.stringify(value)} is not a URL (expected mqtt://host:port)`);
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') throw new UsageError(`--broker must be mqtt:// or mqtts://, got ${url.protocol}`);
  if (url.username || url.password) throw new UsageError(`--broker must not carry credentials: use --username and ${passwordEnv}`);
  return value;
}

/**
 * `qrgate ingest`: the standalone ingestion worker (broker/ingestion/mqttWorker.ts) for
 * terminals connected to a third-party broker, writing into the store the central config
 * names. Runs until SIGTERM or SIGINT; logs `ingest.ready` once subscribed, `ingest.stats`
 * every 10 s and once more at the end.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    'central-config': { type: 'string' },
    broker: { type: 'string' },
    username: { type: 'string' },
    'client-id': { type: 'string' },
    ...logFormatOption,
  });
  const format = logFormatFrom(values);
  const url = brokerUrl(requireOption(values, 'broker'));
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  const logger = createLogger({ level: config.log?.level, base: { component: 'ingest' }, format });

  // Nobody scrapes this process: the registry only feeds the stats line.
  const registry = new MetricsRegistry({ logger, processMetrics: false });
  const metrics = createBrokerMetrics(registry, config.metrics);
  const logStats = (): Promise<void> => registry.counterTotals().then((totals) => logger.info(totals, 'ingest.stats'));

  const stopped = new Promise<string>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve(signal));
  });
  let store: CentralStore;
  try {
    store = await openCentralStore(config, { logger });
  } catch (err) {
    logger.fatal({ err }, 'ingest.failed');
    ctx.stderr.write(`qrgate ingest: ${(err as Error).message}\n`);
    return 1;
  }
  const worker = new MqttIngestionWorker({
    store,
    metrics,
    logger,
    url,
    username: values.username,
    password: process.env[passwordEnv],
    clientId: values['client-id'] ?? defaultIngestClientId,
  });
  const timer = setInterval(() => void logStats(), statsIntervalMs);
  worker.start().then(
    () => logger.info({ clientId: worker.clientId }, 'ingest.ready'),
    () => undefined, // stopped before the first subscription: shutdown logs the rest
  );
  try {
    // A store that is lost refuses every commit: stop, so the supervisor starts a fresh worker.
    const signal = await (store.lost ? Promise.race([stopped, store.lost]) : stopped);
    logger.info({ signal }, 'ingest.stopping');
  } catch (err) {
    logger.fatal({ err }, 'ingest.failed');
    ctx.stderr.write(`qrgate ingest: ${(err as Error).message}\n`);
    return 1;
  } finally {
    clearInterval(timer);
    await worker.stop();
    await store.close();
    await logStats();
  }
  return 0;
};
