import { runScanBench } from '../bench/scanBench.js';
import { parseOptions, UsageError, type Command } from '../command.js';

function count(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive whole number`);
  return n;
}

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
