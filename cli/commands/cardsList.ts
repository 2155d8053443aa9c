import { loadCentralConfig } from '../../broker/config.js';
import { listCards, type RegistryCard } from '../../broker/registry/cardQueries.js';
import { decodePageCursor } from '../../broker/registry/pageCursor.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import { parseOptions, requireOption, type Command } from '../command.js';
import { writeListing } from './registryListing.js';


const line = (card: RegistryCard) =>
  [card.cardNumber, card.idMasked, card.name, card.unit, card.revokedAt === null ? `issued ${card.issuedAt}` : `revoked ${card.revokedAt}`].join('  ');

/**
 * `qrgate cards list`: every card issued, live and revoked, as `GET /api/cards` reads it.
 * The numbers are working credentials: the output is for the operator, not for a ticket.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    'central-config': { type: 'string' },
    unit: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  await withRegistry(config, (db) =>
    writeListing(
      ctx,
      { key: 'cards', json: values.json, empty: 'no cards: issue them with qrgate cards issue', line },
      (page) => listCards(db, { unit: values.unit }, page),
      (cursor) => decodePageCursor('c', cursor)!,
    ),
  );
  return 0;
};
