import { z } from 'zod';
import { unitSchema } from '../../access/roles.js';
import { listMembers } from '../../registry/memberQueries.js';
import { memberStatuses } from '../../registry/memberRow.js';
import { memberKey } from '../../registry/members.js';
import { listScopeSchema } from '../../../protocol/lists/index.js';
import { parseBody, parseQuery } from '../query.js';
import { only, type ProtectedRoute, type Route } from '../route.js';
import type { RouteDeps } from './deps.js';
import { memberChangeRoutes } from './memberChanges.js';
import { membersImportRoute } from './membersImport.js';
import { lazyRefHasher, memberByRef, memberInScope, pageCursor, pageLimit, unitInScope } from './registryScope.js';

/**
 * The people registry over HTTP (issue 12 point 7): what `qrgate members …` does, through
 * the same functions. Admins see everyone; a manager its own unit only, and a request naming
 * another unit or another unit's member is refused (403). A person is named by `ref`, the
 * hex of their ID number's keyed hash; the number itself goes only in a POST body and is
 * hashed at once.
 */

const listQuery = z.strictObject({
  unit: unitSchema.optional(),
  scope: listScopeSchema.optional(),
  status: z.enum(memberStatuses, { message: `expected one of ${memberStatuses.join(', ')}` }).optional(),
  q: z.string().trim().max(100, { message: 'at most 100 characters' }).optional(),
  limit: pageLimit,
  cursor: pageCursor('m'),
});

/** `GET /api/members`: a page of people, oldest registration first, with their live card's number. */
function listRoute(deps: Pick<RouteDeps, 'registry'>): ProtectedRoute {
  return {
    path: '/api/members',
    readsQuery: true,
    access: only('admin', 'manager'),
    async handle({ query, principal }) {
      const { unit, scope, status, q, limit, cursor } = parseQuery(query, listQuery);
      const page = await listMembers(deps.registry, { unit: unitInScope(principal, unit), scope, status, q }, { limit, after: cursor });
      return { status: 200, json: { members: page.items, nextCursor: page.nextCursor } };
    },
  };
}

/** A bound far above any ID number with separators: keeps a pasted blob out of the checks. */
const searchBody = z.strictObject({ idNumber: z.string().max(64, { message: 'is too long for an ID number' }) });

/** `POST /api/members/search {idNumber}`: one person by ID number, in a body so the number never sits in a URL or a log. */
function searchRoute(deps: Pick<RouteDeps, 'registry' | 'config'>): ProtectedRoute {
  const hasher = lazyRefHasher(deps);
  return {
    method: 'POST',
    path: '/api/members/search',
    access: only('admin', 'manager'),
    async handle({ body, principal }) {
      const { ref } = memberKey(hasher(), parseBody(body, searchBody).idNumber, 'idNumber');
      return { status: 200, json: { member: await memberByRef(deps.registry, principal, ref) } };
    },
  };
}

/** `GET /api/members/{ref}`. */
function getRoute(deps: Pick<RouteDeps, 'registry'>): ProtectedRoute {
  return {
    path: '/api/members/{ref}',
    access: only('admin', 'manager'),
    async handle({ params, principal }) {
      return { status: 200, json: { member: await memberInScope(deps.registry, principal, params.ref!) } };
    },
  };
}

export function memberRoutes(deps: RouteDeps): Route[] {
  return [listRoute(deps), searchRoute(deps), getRoute(deps), ...memberChangeRoutes(deps), membersImportRoute(deps)];
}
