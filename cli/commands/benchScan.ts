import { runScanBench } from '../bench/scanBench.js';
import { countOption as count, parseOptions, type Command } from '../command.js';


export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    json: { type: 'boolean' },
    entries: { type: 'string' },
    scans: { type: 'string' },
    burst: { type: 'string' },
    'power-loss-safe': { type: 'boolean' },
  });
  const result = await runScanBench({
    entries: count(values.entries, 'entries', 1_000_000),
    latencyScans: count(values.scans, 'scans', 2000),
    burstScans: count(values.burst, 'burst', 5000),
    powerLossSafe: values['power-loss-safe'] ?? false,
    log: (line) => ctx.stderr.write(`bench scan: ${line}\n`),
  });
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    for (const [key, value] of Object.entries(result)) ctx.stdout.write(`${key.padEnd(14)} ${value}\n`);
  }
  return 0;
};
