import { listTokens } from '../../broker/access/tokens.js';
import { tokenView } from '../../broker/access/tokenView.js';
import { withRegistry } from '../../broker/registry/registryDb.js';
import { parseOptions, type Command } from '../command.js';
import { centralConfigOf, centralOption, describeScope, jsonOption } from './accountOptions.js';

/** `qrgate tokens list`: every token by id and name, never the token itself (the central does not have it). */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, { ...centralOption, ...jsonOption });
  const tokens = (await withRegistry(centralConfigOf(values), (db) => listTokens(db))).map(tokenView);
  if (values.json) {
    ctx.stdout.write(`${JSON.stringify({ tokens })}\n`);
    return 0;
  }
  const lines = tokens.map((token) =>
    [
      `${token.tokenId}  "${token.name}"  ${describeScope(token)}`,
      ...(token.readOnly ? ['read-only'] : []),
      `created ${token.createdAt}`,
      token.expiresAt === null ? 'no expiry' : `expires ${token.expiresAt}`,
      token.lastUsedAt === null ? 'never used' : `last used ${token.lastUsedAt}`,
      ...(token.revokedAt === null ? [] : [`REVOKED ${token.revokedAt}`]),
    ].join(', '),
  );
  ctx.stdout.write(`${tokens.length === 0 ? 'no tokens yet: create one with qrgate tokens create' : lines.join('\n')}\n`);
  return 0;
};
