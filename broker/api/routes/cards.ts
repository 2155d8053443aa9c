import { z } from 'zod';
import { unitSchema, type Principal } from '../../access/roles.js';
import { listScopeSchema } from '../../../protocol/lists/index.js';
import { groupCardNumber } from '../../../protocol/credentials/card.js';
import { cardStates, listCards } from '../../registry/cardQueries.js';
import { cardIdFromNumber, findCard, issueCards, revokeCard, type CardSelection } from '../../registry/cards.js';
import { cardRevoked, cardsIssued } from '../../registry/registryAudit.js';
import { forbidden } from '../http.js';
import { parseBody, parseQuery } from '../query.js';
import { only, type ProtectedRoute, type Route } from '../route.js';
import { cardsPdfRoute } from './cardsPdf.js';
import type { RouteDeps } from './deps.js';
import { lazyRefHasher, pageCursor, pageLimit, selectionInScope, unitInScope } from './registryScope.js';

/**
 * qrgate cards over HTTP: `qrgate cards list | issue | revoke | print` through the same
 * functions. A card number is a working credential, shown only to admins and to the manager
 * of the holder's unit; the audit log names a card by its last four characters.
 */

const listQuery = z.strictObject({
  unit: unitSchema.optional(),
  scope: listScopeSchema.optional(),
  status: z.enum(cardStates, { message: `expected one of ${cardStates.join(', ')}` }).optional(),
  limit: pageLimit,
  cursor: pageCursor('c'),
});

function listRoute(deps: Pick<RouteDeps, 'registry'>): ProtectedRoute {
  return {
    path: '/api/cards',
    readsQuery: true,
    access: only('admin', 'manager'),
    async handle({ query, principal }) {
      const { unit, scope, status, limit, cursor } = parseQuery(query, listQuery);
      const page = await listCards(deps.registry, { unit: unitInScope(principal, unit), scope, status }, { limit, after: cursor });
      return { status: 200, json: { cards: page.items, nextCursor: page.nextCursor } };
    },
  };
}

const issueBody = z
  .strictObject({
    memberRef: z.string().max(64).optional(),
    unit: unitSchema.optional(),
    scope: listScopeSchema.optional(),
    all: z.literal(true, { message: 'expected true (leave it out otherwise)' }).optional(),
    reissue: z.boolean().default(false),
  })
  .refine((body) => [body.memberRef, body.unit, body.scope, body.all].filter((v) => v !== undefined).length === 1, {
    message: 'choose the members with exactly one of memberRef, unit, scope, all',
  });

function issueRoute(deps: Pick<RouteDeps, 'registry' | 'config' | 'now'>): ProtectedRoute {
  const hasher = lazyRefHasher(deps);
  return {
    method: 'POST',
    path: '/api/cards/issue',
    access: only('admin', 'manager'),
    async handle({ body, principal, audit }) {
      const { reissue, ...picked } = parseBody(body, issueBody);
      const { selection, idMasked } = await selectionInScope(deps, principal, picked);
      const { cardId, ...counts } = await issueCards(deps.registry, { hasher: hasher(), now: deps.now }, selection, { reissue });
      if (counts.issued + counts.reissued > 0) audit(cardsIssued(selection, counts, idMasked));
      return { status: 200, json: { ...counts, ...(cardId === undefined ? {} : { cardNumber: groupCardNumber(cardId) }) } };
    },
  };
}

const revokeBody = z.strictObject({ number: z.string().max(64, { message: 'is too long for a card number' }) });

function revokeRoute(deps: Pick<RouteDeps, 'registry' | 'now'>): ProtectedRoute {
  return {
    method: 'POST',
    path: '/api/cards/revoke',
    access: only('admin', 'manager'),
    async handle({ body, principal, audit }) {
      const cardId = cardIdFromNumber(parseBody(body, revokeBody).number);
      const card = await findCard(deps.registry, cardId);
      if (principal.role === 'manager' && card.unit !== principal.unit) throw forbidden(`that card belongs to a member of another unit than ${principal.unit}`);
      const revoked = await revokeCard(deps.registry, cardId, deps.now());
      audit(cardRevoked(revoked));
      return { status: 200, json: revoked };
    },
  };
}

export function cardRoutes(deps: RouteDeps): Route[] {
  return [listRoute(deps), issueRoute(deps), revokeRoute(deps), cardsPdfRoute(deps)];
}
