import { loadTerminalConfig } from '../../gateway/config.js';
import { importListFile } from '../../gateway/listImport.js';
import { parseOptions, requireOption, UsageError, type Command } from '../command.js';

export const run: Command = async (ctx) => {
  const { values, positionals } = parseOptions(ctx.argv, { config: { type: 'string', short: 'c' } }, true);
  const config = loadTerminalConfig(requireOption(values, 'config'));
  if (positionals.length !== 1) throw new UsageError('give exactly one list file');
  const result = importListFile(config, positionals[0]!);
  ctx.stdout.write(
    result.changed
      ? `installed list "${result.scope}" version ${result.version} (was ${result.previousVersion ?? 'none'}): ${result.entries} entries\n`
      : `list "${result.scope}" version ${result.version} is already installed: nothing changed\n`,
  );
  return 0;
};
