import { auditFacts } from '../../broker/access/auditFacts.js';
import { loadCentralConfig, withCentralStore } from '../../broker/config.js';
import { createLogger } from '../../protocol/logger.js';
import { createCheckpoint, type NewCheckpoint } from '../../broker/registry/checkpoints.js';
import { audited } from '../audited.js';
import { parseOptions, requireOption, UsageError, type CliContext, type Command } from '../command.js';
import { checkpointFieldOptions, fieldsFromOptions, optionalDetails, withFieldUsage } from './checkpointOptions.js';

/**
 * Store log lines go to stderr at warn and above: stdout carries the command's answer
 * only, which `--json` promises is one JSON object.
 */
export function provisioningLogger(ctx: CliContext) {
  return createLogger({ level: 'warn', destination: ctx.stderr });
}

/** `qrgate checkpoints create`: prints the new code (or `{"code": …}` with --json). */
export const run: Command = async (ctx) => {
  const { values, positionals } = parseOptions(
    ctx.argv,
    { 'central-config': { type: 'string' }, ...checkpointFieldOptions, json: { type: 'boolean', default: false } },
    true,
  );
  // The dispatcher may or may not pass the sub-command word along.
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== 'create')) {
    throw new UsageError(`unknown checkpoints sub-command "${positionals.join(' ')}"`);
  }
  if (values['no-branch']) throw new UsageError('--no-branch is for checkpoints update; a new checkpoint is not a branch unless --branch is given');
  for (const name of ['name', 'direction', 'confirm']) requireOption(values, name);
  // Checked by createCheckpoint before anything is written; a refusal names the options (withFieldUsage).
  const input = fieldsFromOptions(values) as unknown as NewCheckpoint;
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  const checkpoint = await audited(
    config,
    () => withFieldUsage(values, () => withCentralStore(config, { logger: provisioningLogger(ctx) }, (store) => createCheckpoint(store, input))),
    auditFacts.checkpointCreated,
  );
  ctx.stdout.write(
    values.json
      ? `${JSON.stringify({ code: checkpoint.code })}\n`
      : `checkpoint ${checkpoint.code} created: "${checkpoint.name}", direction ${checkpoint.direction}, confirm ${checkpoint.confirm}${optionalDetails(checkpoint).map((d) => `, ${d}`).join('')}\n`,
  );
  return 0;
};
