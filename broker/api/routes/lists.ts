import { z } from 'zod';
import { loadAuthorityPrivateKey } from '../../../protocol/keys.js';
import { listScopeSchema } from '../../../protocol/lists/index.js';
import { publishedVersions } from '../../lists/listVersions.js';
import type { PublishListResult } from '../../lists/publish.js';
import { publishListInThread } from '../../lists/publishThread.js';
import type { Principal } from '../../access/roles.js';
import { scopesOfUnit } from '../../registry/memberQueries.js';
import { registryLocation } from '../../registry/registryLocation.js';
import { listPublished } from '../../registry/registryAudit.js';
import { badRequest, forbidden } from '../http.js';
import { parseBody, zodReason } from '../query.js';
import { only, type AuthorizedRequest, type ProtectedRoute, type Route } from '../route.js';
import type { RouteDeps } from './deps.js';

/**
 * Signed lists over HTTP: what was published per scope, and `qrgate lists publish`. A
 * manager works with the scopes its unit's members are in (read per request: a member
 * moved to another scope moves the manager's reach with them).
 */

/** The scopes a principal works with: undefined for all (admin), else its unit's members' scopes. */
export async function listScopesOf(registry: RouteDeps['registry'], principal: Principal): Promise<string[] | undefined> {
  return principal.role === 'manager' ? scopesOfUnit(registry, principal.unit!) : undefined;
}

/**
 * Publishes the next version of a scope's list for a principal, audited: the API's
 * `POST /api/lists/{scope}/publish` and the console's "publish now". The publish itself
 * runs in a thread of its own (publishThread.ts): seconds of CPU for a large scope; the
 * thread opens the registry the config names (its own PostgreSQL pool on PostgreSQL).
 */
export async function publishScopeFor(
  deps: Pick<RouteDeps, 'registry' | 'config' | 'now'>,
  request: Pick<AuthorizedRequest, 'principal' | 'audit'>,
  scopeParam: string | undefined,
  expiresInDays?: number,
): Promise<PublishListResult> {
  const { principal } = request;
  const scope = listScopeSchema.safeParse(scopeParam);
  if (!scope.success) throw badRequest(zodReason(scope.error, 'scope'));
  if (principal.role === 'manager' && !(await scopesOfUnit(deps.registry, principal.unit!)).includes(scope.data)) {
    throw forbidden(`no member of ${principal.unit} is in scope "${scope.data}"`);
  }
  const privateKey = loadAuthorityPrivateKey(deps.config.keys.authorityKey);
  const result = await publishListInThread(registryLocation(deps.config), {
    dataDir: deps.config.dataDir,
    scope: scope.data,
    privateKey,
    now: deps.now,
    ...(expiresInDays === undefined ? {} : { expiresInDays }),
  });
  request.audit(listPublished(result));
  return result;
}

function listsRoute(deps: Pick<RouteDeps, 'registry'>): ProtectedRoute {
  return {
    path: '/api/lists',
    access: only('admin', 'manager'),
    async handle({ principal }) {
      return { status: 200, json: { scopes: await publishedVersions(deps.registry, await listScopesOf(deps.registry, principal)) } };
    },
  };
}

const publishBody = z.strictObject({
  expiresInDays: z.number({ message: 'expected a number of days' }).positive({ message: 'must be above 0' }).max(3650, { message: 'at most 3650' }).optional(),
});

function publishRoute(deps: Pick<RouteDeps, 'registry' | 'config' | 'now'>): ProtectedRoute {
  return {
    method: 'POST',
    path: '/api/lists/{scope}/publish',
    access: only('admin', 'manager'),
    async handle(request) {
      const { expiresInDays } = parseBody(request.body, publishBody);
      return { status: 200, json: await publishScopeFor(deps, request, request.params.scope, expiresInDays) };
    },
  };
}

export function listRoutes(deps: RouteDeps): Route[] {
  return [listsRoute(deps), publishRoute(deps)];
}
