import { loadTerminalConfig } from '../../gateway/config.js';
import { missingTerminalNodeFlags } from '../../gateway/nodeFlags.js';
import { Terminal } from '../../gateway/terminal.js';
import { createLogger } from '../../protocol/logger.js';
import { parseOptions, requireOption, type Command } from '../command.js';
import { runUntilSignal } from '../service.js';

export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, { config: { type: 'string', short: 'c' } });
  // Throws ConfigError naming every bad field, before any hardware is touched.
  const config = loadTerminalConfig(requireOption(values, 'config'));
  const logger = createLogger({ level: config.log?.level, base: { terminalId: config.terminalId } });
  const missing = missingTerminalNodeFlags();
  // Runs without them, with more memory during a list sync: worth a line, not a refusal.
  if (missing.length > 0) logger.warn({ missing }, 'terminal.node-flags-missing');
  return runUntilSignal('terminal', new Terminal(config, { logger }), logger, ctx);
};
