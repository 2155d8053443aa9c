import { EntriesCsvError } from '../../provisioning/entriesCsv.js';
import { buildList, ListBuildError } from '../../provisioning/listsBuild.js';
import { KeyFileError } from '../../protocol/keys.js';
import { ListEncodeError } from '../../protocol/lists/index.js';
import { parseOptions, requireOption, UsageError, type Command } from '../command.js';

function wholeNumber(text: string, name: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} must be a whole number, got "${text}"`);
  return Number(text);
}

export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    scope: { type: 'string' },
    'list-version': { type: 'string' },
    key: { type: 'string' },
    entries: { type: 'string' },
    out: { type: 'string' },
    'expires-in-days': { type: 'string' },
  });
  const days = values['expires-in-days'];
  if (days !== undefined && !/^\d+(\.\d+)?$/.test(days)) throw new UsageError(`--expires-in-days must be a number, got "${days}"`);
  try {
    const result = await buildList({
      scope: requireOption(values, 'scope'),
      version: wholeNumber(requireOption(values, 'list-version'), 'list-version'),
      keyDir: requireOption(values, 'key'),
      entriesFile: requireOption(values, 'entries'),
      outFile: requireOption(values, 'out'),
      ...(days === undefined ? {} : { expiresInDays: Number(days) }),
    });
    ctx.stdout.write(
      `list built: scope ${result.scope}, version ${result.version}, ${result.count} entries, ${result.bytes} bytes, ` +
        `key ${result.keyId}, expires ${result.expiresAt} -> ${result.path}\n`,
    );
    return 0;
  } catch (err) {
    const known = err instanceof EntriesCsvError || err instanceof ListBuildError || err instanceof KeyFileError || err instanceof ListEncodeError;
    if (!known) throw err;
    ctx.stderr.write(`qrgate lists build: ${err.message}; nothing written\n`);
    return 1;
  }
};
