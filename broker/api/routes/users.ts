import { z } from 'zod';
import { auditFacts } from '../../access/auditFacts.js';
import type { Principal } from '../../access/roles.js';
import { addUser, disableUser, listUsers, removeUser, setUserPassword } from '../../access/users.js';
import { conflict } from '../http.js';
import { noParameters, parseBody } from '../query.js';
import { only, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';
import { noStore, recordFact } from './auditFact.js';
import { roleScopeBody } from './scopeBody.js';

/**
 * Console users, admin only: the CLI's `users …` (broker/access/users.ts). A password left
 * out is generated and answered once. An admin cannot disable or remove themself, so a
 * slip of the mouse never leaves a central without a way in; another admin, or the CLI on
 * the central's machine, can.
 */

const password = z.string().max(1000);
const addSchema = z.strictObject({
  username: z.string().max(200),
  ...roleScopeBody,
  password: password.optional(),
});
const passwordSchema = z.strictObject({ password: password.optional() });
const bodyLimit = 16 * 1024;

/** Exported for the console's /users, which refuses the same. */
export function notSelf(principal: Principal, username: string | undefined, doing: string): string {
  if (principal.kind === 'user' && principal.id === username) throw conflict(`you cannot ${doing} yourself: ask another admin, or use qrgate users on the central`);
  return username ?? '';
}

export function userRoutes(deps: Pick<RouteDeps, 'registry' | 'logger' | 'now'>): ProtectedRoute[] {
  const access = only('admin');
  return [
    {
      path: '/api/users',
      access,
      async handle() {
        return { status: 200, json: { users: await listUsers(deps.registry) } };
      },
    },
    {
      method: 'POST',
      path: '/api/users',
      access,
      bodyLimit,
      async handle(request) {
        const input = parseBody(request.body, addSchema);
        const { user, generatedPassword } = await addUser(deps.registry, input, deps.now());
        recordFact(request, deps.logger, auditFacts.userAdded(user, generatedPassword !== null));
        return { status: 201, json: { user, ...(generatedPassword === null ? {} : { password: generatedPassword }) }, headers: noStore };
      },
    },
    {
      method: 'POST',
      path: '/api/users/{username}/password',
      access,
      bodyLimit,
      async handle(request) {
        const input = parseBody(request.body, passwordSchema);
        const { user, generatedPassword } = await setUserPassword(deps.registry, request.params.username ?? '', input.password, deps.now());
        recordFact(request, deps.logger, auditFacts.passwordSet(user, generatedPassword !== null));
        return { status: 200, json: { username: user.username, ...(generatedPassword === null ? {} : { password: generatedPassword }) }, headers: noStore };
      },
    },
    {
      method: 'POST',
      path: '/api/users/{username}/disable',
      access,
      bodyLimit: 1024,
      async handle(request) {
        parseBody(request.body, noParameters);
        const user = await disableUser(deps.registry, notSelf(request.principal, request.params.username, 'disable'), deps.now());
        recordFact(request, deps.logger, auditFacts.userDisabled(user));
        return { status: 200, json: { user } };
      },
    },
    {
      method: 'DELETE',
      path: '/api/users/{username}',
      access,
      async handle(request) {
        const user = await removeUser(deps.registry, notSelf(request.principal, request.params.username, 'remove'));
        recordFact(request, deps.logger, auditFacts.userRemoved(user));
        return { status: 200, json: { username: user.username, removed: true } };
      },
    },
  ];
}
