import { runE2eBench } from '../bench/e2eBench.js';
import { countOption as count, parseOptions, UsageError, type Command } from '../command.js';


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
  });
  const url = brokerUrl(values.broker);
  if (url !== undefined && values.mosquitto) throw new UsageError('--broker and --mosquitto are two different brokers: give one');
  // Behind a third-party broker the terminals use receipts (central.receipts) unless told not
  // to; --no-receipts measures the PUBACK-only delivery that loses what the broker drops.
  if (values['no-receipts'] && url === undefined && !values.mosquitto) throw new UsageError('--no-receipts needs --broker or --mosquitto: our central sends none to turn off');
  const result = await runE2eBench({
    terminals: count(values.terminals, 'terminals', 200),
    events: count(values.events, 'events', 200_000),
    ratePerSec: count(values.rate, 'rate', 35_000, 0),
    burst: count(values.burst, 'burst', 50),
    backlog: values.backlog ?? false,
    loadProcesses: count(values['load-processes'], 'load-processes', 2),
    ...(values.mosquitto ? { broker: 'mosquitto' as const } : url === undefined ? {} : { broker: { url } }),
    receipts: !values['no-receipts'],
    drainTimeoutMs: count(values['drain-timeout-ms'], 'drain-timeout-ms', 120_000),
    log: (line) => ctx.stderr.write(`bench e2e: ${line}\n`),
  });
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    for (const [key, value] of Object.entries(result)) ctx.stdout.write(`${key.padEnd(18)} ${value}\n`);
  }
  return 0;
};
