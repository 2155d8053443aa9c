import { recordCliAudit } from '../../broker/access/audit.js';
import { loadCentralConfig } from '../../broker/config.js';
import { checkMemberChanges, memberKey, updateMember, type MemberChanges, type UpdateResult } from '../../broker/registry/members.js';
import { registryRefHasher, withRegistry } from '../../broker/registry/registryDb.js';
import { memberUpdated } from '../../broker/registry/registryAudit.js';
import { parseOptions, requireOption, UsageError, type CliContext, type Command } from '../command.js';

/** Shared by `update` and `set-status`: the answer names the person by the masked ID only. */
export async function changeMember(
  ctx: CliContext,
  values: { 'central-config'?: string; 'id-number'?: string; json: boolean },
  changes: MemberChanges,
  action: 'member.update' | 'member.set-status',
) {
  const config = loadCentralConfig(requireOption(values, 'central-config'));
  const key = memberKey(registryRefHasher(config), requireOption(values, 'id-number'));
  const result: UpdateResult = await withRegistry(config, async (db) => {
    const updated = await updateMember(db, key, changes, Date.now());
    if (updated.changed.length > 0) await recordCliAudit(db, memberUpdated(updated, action));
    return updated;
  });
  ctx.stdout.write(
    values.json
      ? `${JSON.stringify(result)}\n`
      : result.changed.length === 0
        ? `member ${result.idMasked} unchanged: it already had these values\n`
        : `member ${result.idMasked} updated: ${result.changed.join(', ')}\n`,
  );
  return 0;
}

/** `qrgate members update`: changes one person's details; `set-status` changes the status. */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    'central-config': { type: 'string' },
    'id-number': { type: 'string' },
    name: { type: 'string' },
    phone: { type: 'string' },
    address: { type: 'string' },
    unit: { type: 'string' },
    scope: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const { name, phone, address, unit, scope } = values;
  const given = Object.fromEntries(Object.entries({ name, phone, address, unit, scope }).filter(([, value]) => value !== undefined));
  if (Object.keys(given).length === 0) throw new UsageError('nothing to change: give at least one of --name, --phone, --address, --unit, --scope');
  return changeMember(ctx, values, checkMemberChanges(given), 'member.update');
};
