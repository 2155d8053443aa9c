import { resolve } from 'node:path';
import { runReconnectBench } from '../bench/reconnect/reconnectBench.js';
import { countOption as count, parseOptions, type Command } from '../command.js';
import { createLogger } from '../../protocol/logger.js';

/** `qrgate bench reconnect`: how long a restarted central takes to get its whole fleet back (issue 15). */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    json: { type: 'boolean' },
    terminals: { type: 'string' },
    processes: { type: 'string' },
    'central-cpu-prof': { type: 'string' },
  });
  const profileDir = values['central-cpu-prof'];
  const result = await runReconnectBench({
    terminals: count(values.terminals, 'terminals', 10_000),
    processes: count(values.processes, 'processes', 4),
    ...(profileDir === undefined ? {} : { centralCpuProfileDir: resolve(profileDir) }),
    logger: createLogger({ level: 'warn', destination: process.stderr }),
    log: (line) => ctx.stderr.write(`bench reconnect: ${line}\n`),
  });
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    for (const [key, value] of Object.entries(result)) ctx.stdout.write(`${key.padEnd(18)} ${value}\n`);
  }
  return 0;
};
