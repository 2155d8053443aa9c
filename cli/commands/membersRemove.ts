import { recordCliAudit } from '../../broker/access/audit.js';
import { loadCentralConfig } from '../../broker/config.js';
import { memberKey, removeMember } from '../../broker/registry/members.js';
import { registryRefHasher, withRegistryDb } from '../../broker/registry/registryDb.js';
import { memberRemoved } from '../../broker/registry/registryAudit.js';
import { SqliteRegistryDb } from '../../broker/store/sql/sqliteRegistryDb.js';
import { parseOptions, requireOption, type Command } from '../command.js';

/** `qrgate members remove`: deletes a person and their cards; the next published list drops them. */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    'central-config': { type: 'string' },
    'id-number': { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  const key = memberKey(registryRefHasher(config), requireOption(values, 'id-number'));
  const removed = await withRegistryDb(config, async (db) => {
    // The audit log is written through the SQLite connection until recordCliAudit takes a
    // RegistryDb (the access area's port); then this opens withRegistry(config, …) as members list does.
    const result = await removeMember(new SqliteRegistryDb(db), key);
    recordCliAudit(db, memberRemoved(result));
    return result;
  });
  ctx.stdout.write(
    values.json
      ? `${JSON.stringify({ ...removed, removed: true })}\n`
      : `member ${removed.idMasked} removed, with ${removed.cards} card${removed.cards === 1 ? '' : 's'}\n`,
  );
  return 0;
};
