import { loadTerminalConfig } from '../../gateway/config.js';
import { Terminal } from '../../gateway/terminal.js';
import { createLogger } from '../../protocol/logger.js';
import { parseOptions, requireOption, type Command } from '../command.js';

export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, { config: { type: 'string', short: 'c' } });
  // Throws ConfigError naming every bad field, before any hardware is touched.
  const config = loadTerminalConfig(requireOption(values, 'config'));
  const logger = createLogger({ level: config.log?.level, base: { terminalId: config.terminalId } });
  const terminal = new Terminal(config, { logger });

  const stopped = new Promise<string>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve(signal));
  });
  try {
    await terminal.start();
  } catch (err) {
    logger.fatal({ err }, 'terminal.failed');
    await terminal.stop();
    return 1;
  }
  const signal = await stopped;
  logger.info({ signal }, 'terminal.stopping');
  await terminal.stop();
  return 0;
};
