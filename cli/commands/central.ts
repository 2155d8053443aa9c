import { consolePages } from '../../console/index.js';
import { Central } from '../../broker/central.js';
import { loadCentralConfig } from '../../broker/config.js';
import { centralNodeFlags } from '../../broker/nodeFlags.js';
import { createLogger } from '../../protocol/logger.js';
import { warnMissingNodeFlags } from '../../protocol/nodeFlags.js';
import { parseOptions, requireOption, type Command } from '../command.js';
import { logFormatFrom, logFormatOption } from '../logFormat.js';
import { runUntilSignal } from '../service.js';

/**
 * `qrgate central --config F`: runs the broker, ingestion and the API until SIGTERM or
 * SIGINT. A failed start (a bad config, a port in use, an unreadable key) exits 1 with a
 * message naming what to change.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, { config: { type: 'string', short: 'c' }, ...logFormatOption });
  const format = logFormatFrom(values);
  // Throws ConfigError naming every bad field, before anything is opened.
  const config = loadCentralConfig(requireOption(values, 'config'));
  const base = createLogger({ level: config.log?.level, format });
  // In a cluster every line says which node wrote it: three nodes' logs end up side by side.
  const logger = config.cluster ? base.child({ node: config.cluster.nodeId }) : base;
  // Runs without them, at a lower ingest rate.
  warnMissingNodeFlags(logger, centralNodeFlags, 'central.node-flags-missing');
  return runUntilSignal('central', new Central(config, { logger, pages: consolePages }), logger, ctx);
};
