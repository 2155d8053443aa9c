import { loadCentralConfig, withCentralStore } from '../../broker/config.js';
import { parseOptions, requireOption, type Command } from '../command.js';
import { describeCheckpoint } from './checkpointOptions.js';
import { provisioningLogger } from './checkpoints.js';

/**
 * `qrgate checkpoints list`: every checkpoint, retired ones included (marked), one line
 * each; with --json one object `{"checkpoints": [...]}` with every field the store keeps.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, { 'central-config': { type: 'string' }, json: { type: 'boolean', default: false } });
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  const checkpoints = await withCentralStore(config, { logger: provisioningLogger(ctx) }, (store) => store.listCheckpoints());
  ctx.stdout.write(
    values.json
      ? `${JSON.stringify({ checkpoints })}\n`
      : checkpoints.length === 0
        ? 'no checkpoints yet: qrgate checkpoints create\n'
        : `${checkpoints.map(describeCheckpoint).join('\n')}\n`,
  );
  return 0;
};
