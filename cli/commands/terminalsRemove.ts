import { auditFacts } from '../../broker/access/auditFacts.js';
import { loadCentralConfig, withCentralStore } from '../../broker/config.js';
import { removeTerminal } from '../../broker/registry/terminalLifecycle.js';
import { audited } from '../audited.js';
import { parseOptions, requireOption, type Command } from '../command.js';
import { provisioningLogger } from './checkpoints.js';
import { rewriteAfterChange } from './mosquittoConfig.js';

/**
 * `qrgate terminals remove`: for good. A running central disconnects the terminal within
 * about two seconds and refuses it from then on; its events stay, and its id is never
 * handed out again.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    'central-config': { type: 'string' },
    'terminal-id': { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const terminalId = requireOption(values, 'terminal-id');
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  const removed = await audited(
    config,
    () => withCentralStore(config, { logger: provisioningLogger(ctx) }, (store) => removeTerminal(store, terminalId)),
    auditFacts.terminalRemoved,
  );
  ctx.stdout.write(
    values.json ? `${JSON.stringify({ terminalId: removed, removed: true })}\n` : `terminal ${removed} removed: refused and disconnected from now on\n`,
  );
  return rewriteAfterChange(ctx, config);
};
