import { recordCliAudit } from '../../broker/access/audit.js';
import { loadCentralConfig } from '../../broker/config.js';
import { memberKey, removeMember } from '../../broker/registry/members.js';
import { registryRefHasher, withRegistry } from '../../broker/registry/registryDb.js';
import { memberRemoved } from '../../broker/registry/registryAudit.js';
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
  const removed = await withRegistry(config, async (db) => {
    const result = await removeMember(db, key);
    await recordCliAudit(db, memberRemoved(result));
    return result;
  });
  ctx.stdout.write(
    values.json
      ? `${JSON.stringify({ ...removed, removed: true })}\n`
      : `member ${removed.idMasked} removed, with ${removed.cards} card${removed.cards === 1 ? '' : 's'}\n`,
  );
  return 0;
};
