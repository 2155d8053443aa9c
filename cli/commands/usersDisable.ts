import { auditFacts } from '../../broker/access/auditFacts.js';
import { disableUser } from '../../broker/access/users.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import { audited } from '../audited.js';
import { parseOptions, requireOption, type Command } from '../command.js';
import { centralConfigOf, centralOption, jsonOption } from './accountOptions.js';

/** `qrgate users disable`: no more logins, every session ended; the account and its history stay. */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, { ...centralOption, username: { type: 'string' }, ...jsonOption });
  const username = requireOption(values, 'username');
  const config = centralConfigOf(values);
  const user = await audited(config, () => withRegistry(config, (db) => disableUser(db, username)), auditFacts.userDisabled);
  ctx.stdout.write(values.json ? `${JSON.stringify({ user })}\n` : `user ${user.username} disabled since ${user.disabledAt}: cannot log in, sessions ended\n`);
  return 0;
};
