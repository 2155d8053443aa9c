import { z } from 'zod';
import type { Principal } from '../../access/roles.js';
import { csrfTokenFor, endSession, sessionCookieName } from '../../access/sessions.js';
import { badRequest, HttpError } from '../http.js';
import { parseBody } from '../query.js';
import { everyRole, type Route } from '../route.js';
import type { RouteDeps } from './deps.js';

const loginSchema = z.object({
  username: z.string({ message: 'expected a username' }).min(1, { message: 'expected a username' }).max(200),
  password: z.string({ message: 'expected a password' }).min(1, { message: 'expected a password' }).max(1000),
  _csrf: z.string().optional(),
});

function whoAmI(principal: Principal, sessionId: string | null) {
  return {
    kind: principal.kind,
    ...(principal.kind === 'user' ? { username: principal.id } : { tokenId: principal.id }),
    role: principal.role,
    unit: principal.unit,
    checkpoints: principal.checkpoints,
    readOnly: principal.readOnly,
    ...(sessionId === null ? {} : { csrfToken: csrfTokenFor(sessionId) }),
  };
}

/**
 * Browser login (issue 12 point 4). `POST /api/session` {username, password} (JSON or a
 * form) answers who logged in and the CSRF token, and sets an HttpOnly, SameSite=Strict
 * cookie holding a fresh session id. Failed logins are slowed by the central's one
 * LoginDesk (429 with Retry-After), shared with the console's login form. `DELETE` ends the session; `GET`
 * answers who the cookie or token belongs to.
 */
export function sessionRoutes(deps: Pick<RouteDeps, 'registry' | 'config' | 'logins'>): Route[] {
  const cookieMaxAgeS = deps.config.http.sessions.absoluteHours * 3600;
  return [
    {
      method: 'POST',
      path: '/api/session',
      access: 'public',
      rateLimitPerMinute: deps.config.http.publicLookupsPerMinute,
      bodyLimit: 16 * 1024,
      async handle({ body, address, sessionId }) {
        const { username, password } = parseBody(body, loginSchema);
        const outcome = await deps.logins.login({ username, password, address, sessionId });
        if (!outcome.ok && outcome.refusal === 'throttled') {
          const seconds = outcome.retryAfterS;
          throw new HttpError(429, 'rate-limited', `too many failed logins for this username or address: try again in ${seconds} s`, { 'retry-after': String(seconds) });
        }
        if (!outcome.ok) throw new HttpError(401, 'unauthorized', 'wrong username or password', { 'www-authenticate': 'Cookie' });
        return {
          status: 200,
          json: whoAmI(outcome.principal, outcome.session.id),
          cookies: [{ name: sessionCookieName, value: outcome.session.id, maxAgeS: cookieMaxAgeS }],
        };
      },
    },
    {
      method: 'DELETE',
      path: '/api/session',
      access: everyRole,
      async handle({ sessionId, principal, audit }) {
        if (sessionId === null) throw badRequest('no session to end: this request came with a bearer token, not a session cookie');
        await endSession(deps.registry, sessionId);
        audit({ action: 'session.logout', target: principal.id });
        return { status: 200, json: { ok: true }, cookies: [{ name: sessionCookieName, value: null }] };
      },
    },
    {
      path: '/api/session',
      access: everyRole,
      async handle({ principal, sessionId }) {
        return { status: 200, json: whoAmI(principal, sessionId) };
      },
    },
  ];
}
