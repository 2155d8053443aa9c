import { readFileSync, writeFileSync } from 'node:fs';
import { configReference, withReference } from '../../gateway/configReference.js';
import { parseOptions, type Command } from '../command.js';

/**
 * `qrgate config-reference [--write FILE]`: the terminal config's field reference as a
 * markdown table, on stdout or written between the markers in FILE (docs/terminal.md).
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, { write: { type: 'string' } });
  const reference = configReference();
  const file = values.write;
  if (file === undefined) {
    ctx.stdout.write(`${reference}\n`);
    return 0;
  }
  const before = readFileSync(file, 'utf8');
  const after = withReference(before, reference, file);
  if (after !== before) writeFileSync(file, after);
  ctx.stdout.write(`${file}: config reference ${after === before ? 'already up to date' : 'written'}\n`);
  return 0;
};
