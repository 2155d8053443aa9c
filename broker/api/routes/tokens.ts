import { z } from 'zod';
import { auditFacts } from '../../access/auditFacts.js';
import { actorOf } from '../../access/roles.js';
import { createToken, listTokens, revokeToken } from '../../access/tokens.js';
import { tokenView } from '../../access/tokenView.js';
import { parseBody } from '../query.js';
import { only, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';
import { noStore, recordFact } from './auditFact.js';
import { roleScopeBody } from './scopeBody.js';

/** API tokens, admin only: the CLI's `tokens …` (broker/access/tokens.ts). The token is answered once, at creation. */

const createSchema = z.strictObject({
  name: z.string().max(1000),
  ...roleScopeBody,
  readOnly: z.boolean().optional(),
  expiresDays: z.number().optional(),
});

export function tokenRoutes(deps: Pick<RouteDeps, 'registry' | 'logger' | 'now'>): ProtectedRoute[] {
  const access = only('admin');
  return [
    {
      path: '/api/tokens',
      access,
      async handle() {
        return { status: 200, json: { tokens: (await listTokens(deps.registry)).map(tokenView) } };
      },
    },
    {
      method: 'POST',
      path: '/api/tokens',
      access,
      bodyLimit: 16 * 1024,
      async handle(request) {
        const input = parseBody(request.body, createSchema);
        const { token, info } = await createToken(deps.registry, { ...input, createdBy: actorOf(request.principal) }, deps.now());
        recordFact(request, deps.logger, auditFacts.tokenCreated(info));
        return { status: 201, json: { token, ...tokenView(info) }, headers: noStore };
      },
    },
    {
      method: 'DELETE',
      path: '/api/tokens/{id}',
      access,
      async handle(request) {
        const token = await revokeToken(deps.registry, request.params.id ?? '', deps.now());
        recordFact(request, deps.logger, auditFacts.tokenRevoked(token));
        return { status: 200, json: { tokenId: token.tokenId, revokedAt: token.revokedAt } };
      },
    },
  ];
}
