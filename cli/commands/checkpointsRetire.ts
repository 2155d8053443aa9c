import { auditFacts } from '../../broker/access/auditFacts.js';
import { loadCentralConfig, withCentralStore } from '../../broker/config.js';
import { retireCheckpoint } from '../../broker/registry/checkpoints.js';
import { audited } from '../audited.js';
import { parseOptions, requireOption, type Command } from '../command.js';
import { provisioningLogger } from './checkpoints.js';

/**
 * `qrgate checkpoints retire`: for good. Its terminals are refused from now on, and a
 * running central disconnects those connected within about two seconds
 * (broker/auth/revocationWatcher.ts). Its events and statistics stay.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    'central-config': { type: 'string' },
    code: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const code = requireOption(values, 'code');
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  const retired = await audited(
    config,
    () => withCentralStore(config, { logger: provisioningLogger(ctx) }, (store) => retireCheckpoint(store, code)),
    auditFacts.checkpointRetired,
  );
  ctx.stdout.write(
    values.json
      ? `${JSON.stringify({ code: retired.code, retiredAt: retired.retiredAt })}\n`
      : `checkpoint ${retired.code} ("${retired.name}") retired: its terminals are refused and disconnected from now on\n`,
  );
  return 0;
};
