import { createHash } from 'node:crypto';
import { z } from 'zod';
import { recordAudit } from '../../access/audit.js';
import { actorOf, type Principal } from '../../access/roles.js';
import { createSession, csrfTokenFor, endSession, sessionCookieName } from '../../access/sessions.js';
import { checkLogin, getUser, usernameSchema } from '../../access/users.js';
import { FailureThrottle } from '../../auth/failureThrottle.js';
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
 * cookie holding a fresh session id. Failed logins are slowed per username and per address
 * with the MQTT side's throttle: past a few free failures, a source must wait (429, with
 * Retry-After) before its next attempt is even checked. `DELETE` ends the session; `GET`
 * answers who the cookie or token belongs to.
 */
export function sessionRoutes(deps: Pick<RouteDeps, 'db' | 'config' | 'logger' | 'now'>): Route[] {
  const throttle = new FailureThrottle(deps.config.http.loginFailures, { logger: deps.logger, now: deps.now });
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
        // The throttle names the usernames it slows in its log line; a password typed into the
        // username field must not land there, so unknown names are counted by a hash.
        const known = usernameSchema.safeParse(username).success && getUser(deps.db, username) !== null;
        const sources = { address, username: known ? username : `unknown#${createHash('sha256').update(username).digest('hex').slice(0, 12)}` };
        const waitMs = throttle.waitOwed(sources);
        if (waitMs > 0) {
          const seconds = Math.ceil(waitMs / 1000);
          throw new HttpError(429, 'rate-limited', `too many failed logins for this username or address: try again in ${seconds} s`, { 'retry-after': String(seconds) });
        }
        const user = await checkLogin(deps.db, username, password);
        if (user === null) {
          throttle.recordFailure(sources);
          deps.logger.info({ address }, 'api.login-failed');
          throw new HttpError(401, 'unauthorized', 'wrong username or password', { 'www-authenticate': 'Cookie' });
        }
        throttle.recordSuccess(user.username);
        // Always a new id: whatever cookie the browser brought is not promoted to a session
        // (fixation); a live session it brought ends, so switching user leaves nothing behind.
        if (sessionId !== null) endSession(deps.db, sessionId);
        const session = createSession(deps.db, user.username, address, deps.now());
        const principal: Principal = { kind: 'user', id: user.username, role: user.role, unit: user.unit, checkpoints: user.checkpoints, readOnly: false };
        recordAudit(deps.db, { actor: actorOf(principal), action: 'session.login', target: user.username, source: address }, deps.now());
        deps.logger.info({ username: user.username, role: user.role }, 'api.login');
        return {
          status: 200,
          json: whoAmI(principal, session.id),
          cookies: [{ name: sessionCookieName, value: session.id, maxAgeS: cookieMaxAgeS }],
        };
      },
    },
    {
      method: 'DELETE',
      path: '/api/session',
      access: everyRole,
      async handle({ sessionId, principal, audit }) {
        if (sessionId === null) throw badRequest('no session to end: this request came with a bearer token, not a session cookie');
        endSession(deps.db, sessionId);
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
