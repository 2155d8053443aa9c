import { runE2eBench } from '../bench/e2eBench.js';
import { pairLines, runE2ePairBench } from '../bench/e2ePairBench.js';
import type { BenchStoreType } from '../bench/storeBench.js';
import { countOption as count, parseOptions, UsageError, type Command } from '../command.js';

const storeTypes: readonly BenchStoreType[] = ['sqlite', 'postgres'];

/** `--store sqlite`, `--store postgres`, or with --pair both, comma-separated: each is measured on both sides. */
export function storesOption(value: string | undefined, pair: boolean): BenchStoreType[] {
  const stores = (value ?? 'sqlite').split(',').map((s) => s.trim()) as BenchStoreType[];
  const unknown = stores.filter((s) => !storeTypes.includes(s));
  if (unknown.length > 0 || stores.length === 0) throw new UsageError(`--store must be one of ${storeTypes.join(', ')}${pair ? ' (or both, comma-separated)' : ''}`);
  if (new Set(stores).size !== stores.length) throw new UsageError('--store names a store twice');
  if (stores.length > 1 && !pair) throw new UsageError('--store takes one store, or several with --pair');
  return stores;
}


function brokerUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--broker ${JSON.stringify(value)} is not a URL (expected mqtt://host:port)`);
  }
  if (url.protocol !== 'mqtt:') throw new UsageError(`--broker must be mqtt://host:port, got ${url.protocol}`);
  return value;
}

/**
 * `qrgate bench e2e`: terminals -> broker -> store throughput, latency, loss and memory
 * (cli/bench/e2eBench.ts). With --json, stdout is one JSON object; progress goes to stderr.
 * `--store postgres` puts both targets' store into a PostgreSQL database of the bench's own
 * on the server `--pg-url` names. `--pair` runs our central and the bench's own Mosquitto
 * (receipts on) in turn, `--rounds` times (cli/bench/e2ePairBench.ts).
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    json: { type: 'boolean' },
    terminals: { type: 'string' },
    events: { type: 'string' },
    rate: { type: 'string' },
    burst: { type: 'string' },
    backlog: { type: 'boolean' },
    'load-processes': { type: 'string' },
    broker: { type: 'string' },
    mosquitto: { type: 'boolean' },
    'no-receipts': { type: 'boolean' },
    'drain-timeout-ms': { type: 'string' },
    store: { type: 'string' },
    'pg-url': { type: 'string' },
    pair: { type: 'boolean' },
    rounds: { type: 'string' },
  });
  const pair = values.pair ?? false;
  const stores = storesOption(values.store, pair);
  if (values['pg-url'] !== undefined && !stores.includes('postgres')) throw new UsageError('--pg-url names a PostgreSQL server: give it with --store postgres');
  if (values.rounds !== undefined && !pair) throw new UsageError('--rounds counts the rounds of --pair');
  if (pair && (values.broker !== undefined || values.mosquitto || values['no-receipts'])) {
    throw new UsageError('--pair runs our central and its own Mosquitto with receipts: --broker, --mosquitto and --no-receipts do not apply');
  }
  const url = brokerUrl(values.broker);
  if (url !== undefined && values.mosquitto) throw new UsageError('--broker and --mosquitto are two different brokers: give one');
  // Behind a third-party broker the terminals use receipts (central.receipts) unless told not
  // to; --no-receipts measures the PUBACK-only delivery that loses what the broker drops.
  if (values['no-receipts'] && url === undefined && !values.mosquitto) throw new UsageError('--no-receipts needs --broker or --mosquitto: our central sends none to turn off');
  const load = {
    terminals: count(values.terminals, 'terminals', 200),
    events: count(values.events, 'events', 200_000),
    ratePerSec: count(values.rate, 'rate', 35_000, 0),
    burst: count(values.burst, 'burst', 50),
    backlog: values.backlog ?? false,
    loadProcesses: count(values['load-processes'], 'load-processes', 2),
    drainTimeoutMs: count(values['drain-timeout-ms'], 'drain-timeout-ms', 120_000),
    // The bench makes a database of its own on that server per run and drops it at the end.
    ...(values['pg-url'] === undefined ? {} : { postgresUrl: values['pg-url'] }),
    log: (line: string) => ctx.stderr.write(`bench e2e: ${line}\n`),
  };
  if (pair) {
    const result = await runE2ePairBench({ ...load, rounds: count(values.rounds, 'rounds', 3), stores });
    ctx.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${pairLines(result).join('\n')}\n`);
    return 0;
  }
  const result = await runE2eBench({
    ...load,
    store: stores[0]!,
    ...(values.mosquitto ? { broker: 'mosquitto' as const } : url === undefined ? {} : { broker: { url } }),
    receipts: !values['no-receipts'],
  });
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    for (const [key, value] of Object.entries(result)) ctx.stdout.write(`${key.padEnd(18)} ${value}\n`);
  }
  return 0;
};
