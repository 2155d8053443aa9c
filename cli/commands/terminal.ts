import { loadTerminalConfig } from '../../gateway/config.js';
import { Terminal } from '../../gateway/terminal.js';
import { createLogger } from '../../protocol/logger.js';
import { parseOptions, requireOption, type Command } from '../command.js';
import { runUntilSignal } from '../service.js';

export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, { config: { type: 'string', short: 'c' } });
  // Throws ConfigError naming every bad field, before any hardware is touched.
  const config = loadTerminalConfig(requireOption(values, 'config'));
  const logger = createLogger({ level: config.log?.level, base: { terminalId: config.terminalId } });
  return runUntilSignal('terminal', new Terminal(config, { logger }), logger, ctx);
};
