import { runLoginClients } from '../bench/reconnect/loginClients.js';
import { parseOptions, requireOption, type Command } from '../command.js';

/**
 * `qrgate bench reconnect-clients --spec FILE`: one share of `bench reconnect`'s terminals,
 * started by it; not for use by hand. Runs until SIGTERM.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, { spec: { type: 'string' } });
  const clients = runLoginClients(requireOption(values, 'spec'), (line) => ctx.stdout.write(line));
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
  });
  await clients.stop();
  return 0;
};
