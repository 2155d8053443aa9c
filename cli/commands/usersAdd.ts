import { auditFacts } from '../../broker/access/auditFacts.js';
import { addUser } from '../../broker/access/users.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import { audited } from '../audited.js';
import { parseOptions, requireOption, type Command } from '../command.js';
import { centralConfigOf, centralOption, describeScope, jsonOption, readPasswordLine, scopeFromOptions, scopeOptions, shownOnce } from './accountOptions.js';

/**
 * `qrgate users add`: a person who logs in to the console. Without `--password-stdin` a
 * strong password is generated and printed once; the person changes nothing about it, and
 * a lost one means `users set-password`.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    ...centralOption,
    username: { type: 'string' },
    ...scopeOptions,
    'password-stdin': { type: 'boolean', default: false },
    ...jsonOption,
  });
  const username = requireOption(values, 'username');
  const scope = scopeFromOptions(values);
  const config = centralConfigOf(values);
  const password = values['password-stdin'] ? await readPasswordLine(ctx) : undefined;
  const { user, generatedPassword } = await audited(
    config,
    () => withRegistry(config, (db) => addUser(db, { username, ...scope, ...(password === undefined ? {} : { password }) })),
    (added) => auditFacts.userAdded(added.user, added.generatedPassword !== null),
  );
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify({ user, ...(generatedPassword === null ? {} : { password: generatedPassword }) })}\n`);
    return 0;
  }
  ctx.stdout.write(
    [`user ${user.username} added: ${describeScope(user)}`, ...(generatedPassword === null ? [] : [`password, ${shownOnce}`, `  ${generatedPassword}`]), ''].join('\n'),
  );
  return 0;
};
