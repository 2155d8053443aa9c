import { auditFacts } from '../../broker/access/auditFacts.js';
import { setUserPassword } from '../../broker/access/users.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import { audited } from '../audited.js';
import { parseOptions, requireOption, type Command } from '../command.js';
import { centralConfigOf, centralOption, jsonOption, readPasswordLine, shownOnce } from './accountOptions.js';

/** `qrgate users set-password`: a new password (generated unless piped in); the user's sessions end at once. */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, { ...centralOption, username: { type: 'string' }, 'password-stdin': { type: 'boolean', default: false }, ...jsonOption });
  const username = requireOption(values, 'username');
  const config = centralConfigOf(values);
  const password = values['password-stdin'] ? await readPasswordLine(ctx) : undefined;
  const { user, generatedPassword } = await audited(
    config,
    () => withRegistry(config, (db) => setUserPassword(db, username, password)),
    (set) => auditFacts.passwordSet(set.user, set.generatedPassword !== null),
  );
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify({ username: user.username, ...(generatedPassword === null ? {} : { password: generatedPassword }) })}\n`);
    return 0;
  }
  ctx.stdout.write(
    [`user ${user.username}: password changed; every session they had is ended`, ...(generatedPassword === null ? [] : [`new password, ${shownOnce}`, `  ${generatedPassword}`]), ''].join(
      '\n',
    ),
  );
  return 0;
};
