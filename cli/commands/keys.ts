import { generateKeys } from '../../provisioning/keysGenerate.js';
import { KeyFileError } from '../../protocol/keys.js';
import { parseOptions, requireOption, UsageError, type Command } from '../command.js';

/**
 * `qrgate keys generate --out DIR`. Prints where the keys went and the public fingerprint,
 * never key material: this output ends up in shell history, tickets and chat.
 */
export const run: Command = async (ctx) => {
  const { values, positionals } = parseOptions(ctx.argv, { out: { type: 'string' } }, true);
  // The dispatcher may or may not pass the sub-command word along.
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== 'generate')) {
    throw new UsageError(`unknown keys sub-command "${positionals.join(' ')}"`);
  }
  const out = requireOption(values, 'out');
  try {
    const { paths, keyId } = generateKeys(out);
    ctx.stdout.write(
      [
        `authority private key: ${paths.authorityKey}  (keep on the list-building machine only)`,
        `authority public key:  ${paths.authorityPub}  (key id ${keyId}; give to terminals)`,
        `ref key:               ${paths.refKey}  (give to terminals and the central)`,
        '',
      ].join('\n'),
    );
    return 0;
  } catch (err) {
    if (!(err instanceof KeyFileError)) throw err;
    ctx.stderr.write(`qrgate keys generate: ${err.message}\n`);
    return 1;
  }
};
