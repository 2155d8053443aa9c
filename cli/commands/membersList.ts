import { loadCentralConfig } from '../../broker/config.js';
import { listMembers, type RegistryMember } from '../../broker/registry/memberQueries.js';
import { decodePageCursor } from '../../broker/registry/pageCursor.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import { parseOptions, requireOption, type Command } from '../command.js';
import { writeListing } from './registryListing.js';


function line(member: RegistryMember): string {
  // The whole card number is a working credential; the last group is enough to tell cards apart here.
  const card = member.cardNumber === null ? 'no card' : `card …${member.cardNumber.replaceAll(' ', '').slice(-4)}`;
  return [member.idMasked, member.name, member.phone, member.unit, member.scope, member.status, card].join('  ');
}

/**
 * `qrgate members list`: the registry as `GET /api/members` reads it (same function), by
 * registration order; --json gives every field, the live card's number included.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    'central-config': { type: 'string' },
    unit: { type: 'string' },
    scope: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  await withRegistry(config, (db) =>
    writeListing(
      ctx,
      { key: 'members', json: values.json, empty: 'no members: add them with qrgate members import', line },
      (page) => listMembers(db, { unit: values.unit, scope: values.scope }, page),
      (cursor) => decodePageCursor('m', cursor)!,
    ),
  );
  return 0;
};
