import { runStoreBench, type BenchStoreType } from '../bench/storeBench.js';
import { countOption as count, parseOptions, UsageError, type Command } from '../command.js';

const storeTypes: readonly BenchStoreType[] = ['sqlite', 'postgres'];

/**
 * `qrgate bench store [--store sqlite|postgres] [--url postgresql://…]`: the central store's
 * queries and retention at size (cli/bench/storeBench.ts). With --json, stdout is one JSON object; progress goes to stderr.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    json: { type: 'boolean' },
    store: { type: 'string' },
    events: { type: 'string' },
    checkpoints: { type: 'string' },
    requests: { type: 'string' },
    'ingest-rate': { type: 'string' },
    'retention-seconds': { type: 'string' },
    'baseline-seconds': { type: 'string' },
    url: { type: 'string' },
  });
  const store = (values.store ?? 'sqlite') as BenchStoreType;
  if (!storeTypes.includes(store)) throw new UsageError(`--store must be one of ${storeTypes.join(', ')}`);
  if (values.url !== undefined && store !== 'postgres') throw new UsageError('--url names a PostgreSQL server: give it with --store postgres');
  const result = await runStoreBench({
    store,
    events: count(values.events, 'events', 10_000_000),
    checkpoints: count(values.checkpoints, 'checkpoints', 50),
    requests: count(values.requests, 'requests', 200),
    ingestRatePerSec: count(values['ingest-rate'], 'ingest-rate', 1000),
    // At 10 M the older month's 5 M deletes outlast a run: the stall of a window says as much.
    ...(values['retention-seconds'] === undefined ? {} : { retentionWindowMs: count(values['retention-seconds'], 'retention-seconds', 0) * 1000 }),
    // As long as the retention window, to compare like with like (storeBench.ts).
    ...(values['baseline-seconds'] === undefined ? {} : { baselineMs: count(values['baseline-seconds'], 'baseline-seconds', 3) * 1000 }),
    // The bench makes a database of its own on that server and drops it at the end.
    ...(values.url === undefined ? {} : { postgresUrl: values.url }),
    log: (line) => ctx.stderr.write(`bench store: ${line}\n`),
  });
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    for (const [key, value] of Object.entries(result)) ctx.stdout.write(`${key.padEnd(26)} ${typeof value === 'object' ? JSON.stringify(value) : value}\n`);
  }
  return 0;
};
