import { runBulkBench } from '../bench/bulkBench.js';
import { countOption as count, parseOptions, type Command } from '../command.js';
import { createLogger } from '../../protocol/logger.js';

/** `qrgate bench bulk`: what terminals feel while a million-row import and the first list publish run beside the central (issue 15). */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    json: { type: 'boolean' },
    members: { type: 'string' },
    rate: { type: 'string' },
    terminals: { type: 'string' },
    batch: { type: 'string' },
    baseline: { type: 'string' },
    'central-cpu-prof': { type: 'string' },
  });
  const profileDir = values['central-cpu-prof'];
  const result = await runBulkBench({
    members: count(values.members, 'members', 1_000_000),
    eventsPerSec: count(values.rate, 'rate', 5_000),
    terminals: count(values.terminals, 'terminals', 100),
    batchSize: count(values.batch, 'batch', 100),
    baselineSeconds: count(values.baseline, 'baseline', 10),
    ...(profileDir === undefined ? {} : { centralCpuProfileDir: profileDir }),
    logger: createLogger({ level: 'warn', destination: process.stderr }),
    log: (line) => ctx.stderr.write(`bench bulk: ${line}\n`),
  });
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    for (const [key, value] of Object.entries(result)) ctx.stdout.write(`${key.padEnd(20)} ${typeof value === 'object' ? JSON.stringify(value) : value}\n`);
  }
  return 0;
};
