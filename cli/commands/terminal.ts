import { readFileSync } from 'node:fs';
import { loadHardwareConfig, loadTerminalConfig, type TerminalConfig } from '../../gateway/config.js';
import { EnrollingTerminal } from '../../gateway/enroll/enrollingTerminal.js';
import { terminalNodeFlags } from '../../gateway/nodeFlags.js';
import { warnMissingNodeFlags } from '../../protocol/nodeFlags.js';
import { Terminal } from '../../gateway/terminal.js';
import { createLogger, type LogFormat, type Logger } from '../../protocol/logger.js';
import { parseOptions, requireOption, type Command } from '../command.js';
import { logFormatFrom, logFormatOption } from '../logFormat.js';
import { runUntilSignal } from '../service.js';

/**
 * A config with no `terminalId` is a hardware config waiting for enrollment. Unreadable or
 * not JSON: "has an identity", so the full loader reports the problem as it always does.
 */
function awaitsEnrollment(file: string): boolean {
  try {
    const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof raw === 'object' && raw !== null && !('terminalId' in raw);
  } catch {
    return false;
  }
}

function terminalLogger(config: TerminalConfig, format: LogFormat): Logger {
  const logger = createLogger({ level: config.log?.level, base: { terminalId: config.terminalId }, format });
  // Runs without them, with more memory during a list sync.
  warnMissingNodeFlags(logger, terminalNodeFlags, 'terminal.node-flags-missing');
  return logger;
}

export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, { config: { type: 'string', short: 'c' }, enroll: { type: 'boolean', default: false }, ...logFormatOption });
  const format = logFormatFrom(values);
  const file = requireOption(values, 'config');
  if (values.enroll && awaitsEnrollment(file)) {
    // Throws ConfigError naming every bad field, before any hardware is touched.
    const hardware = loadHardwareConfig(file);
    const logger = createLogger({ level: hardware.log?.level, base: { component: 'enroll' }, format });
    const service = new EnrollingTerminal(file, hardware, {
      logger,
      terminal: (config) => new Terminal(config, { logger: terminalLogger(config, format) }),
    });
    return runUntilSignal('terminal', service, logger, ctx);
  }
  // With --enroll and an identity already there (every boot after the first), this is a plain start.
  const config = loadTerminalConfig(file);
  const logger = terminalLogger(config, format);
  return runUntilSignal('terminal', new Terminal(config, { logger }), logger, ctx);
};
