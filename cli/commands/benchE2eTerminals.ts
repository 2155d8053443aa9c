import { runTerminalsProcess } from '../bench/e2e/terminalsProcess.js';
import { parseOptions, requireOption, type Command } from '../command.js';
import { createLogger } from '../../protocol/logger.js';

/**
 * `qrgate bench e2e-terminals --spec FILE`: one share of `bench e2e`'s simulated terminals,
 * started by it with an IPC channel (cli/bench/e2e/terminalsIpc.ts); not for use by hand.
 * Warnings go to stderr, which the bench shares.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, { spec: { type: 'string' } });
  await runTerminalsProcess(requireOption(values, 'spec'), createLogger({ level: 'warn', destination: process.stderr }));
  return 0;
};
