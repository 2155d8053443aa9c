import { auditFacts } from '../../broker/access/auditFacts.js';
import { removeUser } from '../../broker/access/users.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import { audited } from '../audited.js';
import { parseOptions, requireOption, type Command } from '../command.js';
import { centralConfigOf, centralOption, jsonOption } from './accountOptions.js';

/** `qrgate users remove`: the account and its sessions go; the audit log keeps naming them. */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, { ...centralOption, username: { type: 'string' }, ...jsonOption });
  const username = requireOption(values, 'username');
  const config = centralConfigOf(values);
  const user = await audited(config, () => withRegistry(config, (db) => removeUser(db, username)), auditFacts.userRemoved);
  ctx.stdout.write(values.json ? `${JSON.stringify({ username: user.username, removed: true })}\n` : `user ${user.username} removed\n`);
  return 0;
};
