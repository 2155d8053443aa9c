import { listUsers } from '../../broker/access/users.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import { parseOptions, type Command } from '../command.js';
import { centralConfigOf, centralOption, describeScope, jsonOption } from './accountOptions.js';

/** `qrgate users list`: who may log in, with role and scope; disabled ones marked. */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, { ...centralOption, ...jsonOption });
  const users = await withRegistry(centralConfigOf(values), (db) => listUsers(db));
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify({ users })}\n`);
    return 0;
  }
  const lines = users.map((user) => `${user.username}  ${describeScope(user)}, created ${user.createdAt}${user.disabledAt === null ? '' : `, DISABLED ${user.disabledAt}`}`);
  ctx.stdout.write(`${users.length === 0 ? 'no users yet: add one with qrgate users add' : lines.join('\n')}\n`);
  return 0;
};
