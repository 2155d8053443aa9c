import { runConsoleBench } from '../bench/consoleBench.js';
import { countOption as count, parseOptions, type Command } from '../command.js';

/**
 * `qrgate bench console`: the operator console over a store of 10,000,000 events
 * (cli/bench/consoleBench.ts). With --json, stdout is one JSON object; progress goes to stderr.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    json: { type: 'boolean' },
    events: { type: 'string' },
    checkpoints: { type: 'string' },
    requests: { type: 'string' },
    'csv-rows': { type: 'string' },
    'live-rate': { type: 'string' },
    'live-seconds': { type: 'string' },
    'live-terminals': { type: 'string' },
  });
  const result = await runConsoleBench({
    events: count(values.events, 'events', 10_000_000),
    checkpoints: count(values.checkpoints, 'checkpoints', 50),
    requests: count(values.requests, 'requests', 40),
    csvRows: count(values['csv-rows'], 'csv-rows', 1_000_000),
    liveRatePerSec: count(values['live-rate'], 'live-rate', 1000),
    liveSeconds: count(values['live-seconds'], 'live-seconds', 20),
    liveTerminals: count(values['live-terminals'], 'live-terminals', 20),
    log: (line) => ctx.stderr.write(`bench console: ${line}\n`),
  });
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    for (const [key, value] of Object.entries(result)) ctx.stdout.write(`${key.padEnd(18)} ${typeof value === 'object' ? JSON.stringify(value) : value}\n`);
  }
  return 0;
};
