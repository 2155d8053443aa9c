import { runRetainedBench } from '../bench/retainedBench.js';
import { countOption as count, parseOptions, type Command } from '../command.js';

/** `qrgate bench retained`: a terminal's login SUBSCRIBE against N retained statuses in a cluster's Redis. */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    json: { type: 'boolean' },
    redis: { type: 'string' },
    retained: { type: 'string' },
    subscribes: { type: 'string' },
  });
  const result = await runRetainedBench({
    redisUrl: values.redis ?? 'redis://127.0.0.1:6379/0',
    retained: count(values.retained, 'retained', 10_000),
    subscribes: count(values.subscribes, 'subscribes', 200),
    log: (line) => ctx.stderr.write(`bench retained: ${line}\n`),
  });
  if (values.json) ctx.stdout.write(`${JSON.stringify(result)}\n`);
  else for (const [key, value] of Object.entries(result)) ctx.stdout.write(`${key.padEnd(28)} ${JSON.stringify(value)}\n`);
  return 0;
};
