import { auditFacts } from '../../broker/access/auditFacts.js';
import { revokeToken } from '../../broker/access/tokens.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import { audited } from '../audited.js';
import { parseOptions, requireOption, type Command } from '../command.js';
import { centralConfigOf, centralOption, jsonOption } from './accountOptions.js';

/** `qrgate tokens revoke`: the next request carrying the token is refused. */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, { ...centralOption, id: { type: 'string' }, ...jsonOption });
  const id = requireOption(values, 'id');
  const config = centralConfigOf(values);
  const token = await audited(config, () => withRegistry(config, (db) => revokeToken(db, id)), auditFacts.tokenRevoked);
  ctx.stdout.write(values.json ? `${JSON.stringify({ tokenId: token.tokenId, revokedAt: token.revokedAt })}\n` : `token ${token.tokenId} ("${token.name}") revoked since ${token.revokedAt}\n`);
  return 0;
};
