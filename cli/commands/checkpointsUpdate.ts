import { auditFacts } from '../../broker/access/auditFacts.js';
import { loadCentralConfig, withCentralStore } from '../../broker/config.js';
import { updateCheckpoint } from '../../broker/registry/checkpoints.js';
import { audited } from '../audited.js';
import { parseOptions, requireOption, UsageError, type Command } from '../command.js';
import { checkpointFieldOptions, describeCheckpoint, fieldsFromOptions, withFieldUsage } from './checkpointOptions.js';
import { provisioningLogger } from './checkpoints.js';

/**
 * `qrgate checkpoints update`: changes the given fields of one checkpoint, all or nothing.
 * The terminals' own configs carry a copy of name and confirm (`checkpoint` in the terminal
 * config): the answer reminds the operator, it does not reach out to the terminals.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    'central-config': { type: 'string' },
    code: { type: 'string' },
    ...checkpointFieldOptions,
    json: { type: 'boolean', default: false },
  });
  const code = requireOption(values, 'code');
  const changes = fieldsFromOptions(values);
  if (Object.keys(changes).length === 0) {
    throw new UsageError('nothing to change: give at least one of --name, --unit, --direction, --confirm, --lat and --lon, --branch, --no-branch');
  }
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  const { before, after } = await audited(
    config,
    () => withFieldUsage(values, () => withCentralStore(config, { logger: provisioningLogger(ctx) }, (store) => updateCheckpoint(store, code, changes))),
    (updated) => auditFacts.checkpointUpdated(updated.before, updated.after),
  );
  const changed = (Object.keys(changes) as (keyof typeof after)[]).filter((key) => before[key] !== after[key]);
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify({ checkpoint: after, changed })}\n`);
    return 0;
  }
  const terminalCopy = changed.some((key) => key === 'name' || key === 'confirm' || key === 'direction');
  ctx.stdout.write(
    [
      changed.length === 0 ? `checkpoint ${after.code} unchanged: it already had these values` : `checkpoint ${after.code} updated: ${changed.join(', ')}`,
      describeCheckpoint(after),
      ...(terminalCopy ? ["its terminals' configs keep their own copy of the checkpoint and lanes: update them on each terminal too"] : []),
      '',
    ].join('\n'),
  );
  return 0;
};
