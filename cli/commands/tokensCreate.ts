import { cliActor } from '../../broker/access/audit.js';
import { auditFacts } from '../../broker/access/auditFacts.js';
import { createToken } from '../../broker/access/tokens.js';
import { tokenView } from '../../broker/access/tokenView.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import { audited } from '../audited.js';
import { parseOptions, requireOption, type Command } from '../command.js';
import { centralConfigOf, centralOption, describeScope, jsonOption, scopeFromOptions, scopeOptions } from './accountOptions.js';

/**
 * `qrgate tokens create`: a bearer token for a program (Prometheus, an export script). It
 * is printed once: the central keeps only its hash.
 */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    ...centralOption,
    name: { type: 'string' },
    ...scopeOptions,
    'read-only': { type: 'boolean', default: false },
    'expires-days': { type: 'string' },
    ...jsonOption,
  });
  const name = requireOption(values, 'name');
  const scope = scopeFromOptions(values);
  // Not a number becomes NaN, which createToken refuses with the option's name.
  const expiresDays = values['expires-days'] === undefined ? undefined : Number(values['expires-days']);
  const config = centralConfigOf(values);
  const { token, info } = await audited(
    config,
    () =>
      withRegistry(config, (db) =>
        createToken(db, { name, ...scope, readOnly: values['read-only'], ...(expiresDays === undefined ? {} : { expiresDays }), createdBy: cliActor() }),
      ),
    (created) => auditFacts.tokenCreated(created.info),
  );
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify({ token, ...tokenView(info) })}\n`);
    return 0;
  }
  ctx.stdout.write(
    [
      `token ${info.tokenId} ("${info.name}") created: ${describeScope(info)}${info.readOnly ? ', read-only' : ''}, ${info.expiresAt === null ? 'until revoked' : `expires ${info.expiresAt}`}`,
      'token, shown this once and stored nowhere (the central keeps only its hash); send it as "Authorization: Bearer <token>":',
      `  ${token}`,
      '',
    ].join('\n'),
  );
  return 0;
};
