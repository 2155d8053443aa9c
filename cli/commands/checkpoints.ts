import { loadCentralConfig, withCentralStore } from '../../broker/config.js';
import { createLogger } from '../../protocol/logger.js';
import { checkpointDirections, confirmModes, createCheckpoint } from '../../provisioning/checkpoints.js';
import { parseOptions, requireOption, UsageError, type CliContext, type Command } from '../command.js';

export const usage = 'qrgate checkpoints create --central-config F --name N --direction in|out|both --confirm auto|manual [--json]';

function oneOf<T extends string>(value: string, allowed: readonly T[], name: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} must be ${allowed.join(' | ')}, got "${value}"`);
  return value as T;
}

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
    {
      'central-config': { type: 'string' },
      name: { type: 'string' },
      direction: { type: 'string' },
      confirm: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    true,
  );
  // The dispatcher may or may not pass the sub-command word along.
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== 'create')) {
    throw new UsageError(`unknown checkpoints sub-command; usage: ${usage}`);
  }
  const input = {
    name: requireOption(values, 'name'),
    direction: oneOf(requireOption(values, 'direction'), checkpointDirections, 'direction'),
    confirm: oneOf(requireOption(values, 'confirm'), confirmModes, 'confirm'),
  };
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  const checkpoint = await withCentralStore(config, { logger: provisioningLogger(ctx) }, (store) => createCheckpoint(store, input));
  ctx.stdout.write(
    values.json
      ? `${JSON.stringify({ code: checkpoint.code })}\n`
      : `checkpoint ${checkpoint.code} created: "${checkpoint.name}", direction ${checkpoint.direction}, confirm ${checkpoint.confirm}\n`,
  );
  return 0;
};
