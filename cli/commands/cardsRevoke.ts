import { loadCentralConfig } from '../../broker/config.js';
import { cardIdFromNumber, revokeCard } from '../../broker/registry/cards.js';
import { recordCliAudit } from '../../broker/access/audit.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import { cardRevoked } from '../../broker/registry/registryAudit.js';
import { parseOptions, requireOption, type Command } from '../command.js';


/**
 * `qrgate cards revoke`: a lost or stolen card stops working at the registry now, and at the
 * gates with the next `qrgate lists publish` of the holder's scope. The number as printed,
 * with or without its spaces; the answer names the card by its last four characters.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    'central-config': { type: 'string' },
    number: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const cardId = cardIdFromNumber(requireOption(values, 'number'));
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  const revoked = await withRegistry(config, (db) => revokeCard(db, cardId, Date.now()));
  await withRegistry(config, (db) => recordCliAudit(db, cardRevoked(revoked)));
  ctx.stdout.write(
    values.json
      ? `${JSON.stringify(revoked)}\n`
      : `card …${revoked.cardTail} of member ${revoked.idMasked} revoked; publish the list of the member's scope so terminals refuse it\n`,
  );
  return 0;
};
