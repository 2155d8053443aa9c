import type { FastifyRequest } from 'fastify';
import { csrfTokenMatches, resolveSession, sessionCookieName, type SessionPolicy } from '../access/sessions.js';
import { principalForToken, type TokenRefusal } from '../access/tokens.js';
import type { Principal } from '../access/roles.js';
import type { RegistryDb } from '../store/sql/registryDb.js';
import { forbidden, HttpError } from './http.js';
import type { Route } from './route.js';

/**
 * Who is asking, decided once per request before any route runs (STYLE.md: authentication
 * as an onRequest hook). A bearer token wins over a cookie; a request carrying a bad one of
 * either is refused on a protected route rather than served as anonymous, so a client
 * learns at once that its credentials stopped working.
 */

export interface RequestAuth {
  readonly principal: Principal | null;
  readonly via: 'token' | 'session' | null;
  /** The live session's id, when the principal came from the cookie. */
  readonly sessionId: string | null;
}

export interface AuthenticateDeps {
  /** Accounts, sessions and tokens: one query per request (plus a rare last-seen write). */
  readonly db: RegistryDb;
  readonly sessions: SessionPolicy;
  readonly now: () => number;
}

const anonymous: RequestAuth = { principal: null, via: null, sessionId: null };

const tokenReasons: Record<TokenRefusal, string> = {
  malformed: 'the bearer token is not a qrgate token (qrg_…)',
  unknown: 'the bearer token is not known to this central',
  revoked: 'the bearer token was revoked',
  expired: 'the bearer token has expired',
};

const unauthorized = (reason: string, challenge = 'Bearer'): HttpError => new HttpError(401, 'unauthorized', reason, { 'www-authenticate': challenge });

async function fromCredentials(request: FastifyRequest, deps: AuthenticateDeps): Promise<RequestAuth | HttpError> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer ([^\s]+)$/i.exec(header);
    if (match === null) return unauthorized('Authorization: expected "Bearer <token>"');
    const principal = await principalForToken(deps.db, match[1]!, deps.now());
    if (typeof principal === 'string') return unauthorized(tokenReasons[principal], 'Bearer error="invalid_token"');
    return { principal, via: 'token', sessionId: null };
  }
  const sessionId = request.cookies[sessionCookieName];
  if (sessionId === undefined || sessionId === '') return anonymous;
  const session = await resolveSession(deps.db, sessionId, deps.sessions, deps.now());
  if (session === null) return unauthorized('your session has ended (too long idle, too long since login, or logged out): log in again', 'Cookie');
  return { principal: session.principal, via: 'session', sessionId };
}

/** Throws the 401 or 403 a protected route answers; returns who is asking otherwise. */
export async function authenticate(request: FastifyRequest, route: Route | undefined, deps: AuthenticateDeps): Promise<RequestAuth> {
  // 404 and 405 answers reveal nothing and need no credentials.
  if (route === undefined) return anonymous;
  const auth = await fromCredentials(request, deps);
  if (route.access === 'public') return auth instanceof HttpError ? anonymous : auth;
  if (auth instanceof HttpError) throw auth;
  const principal = auth.principal;
  if (principal === null) throw unauthorized('log in (POST /api/session) or send Authorization: Bearer <token>');
  if (!route.access.includes(principal.role)) {
    throw forbidden(`${route.method ?? 'GET'} ${route.path} is for ${route.access.join(', ')}; you are ${principal.role === 'admin' || principal.role === 'inspector' ? 'an' : 'a'} ${principal.role}`);
  }
  if (principal.readOnly && !isSafe(request.method)) throw forbidden('this token is read-only: it may read, never change');
  return auth;
}

const isSafe = (method: string): boolean => method === 'GET' || method === 'HEAD' || method === 'OPTIONS';

/**
 * Cross-site request forgery: a state-changing request that rides on the session cookie
 * must carry the session's CSRF token (`X-CSRF-Token`, or `_csrf` in a form), which a page
 * on another site cannot know; and if the browser says where it comes from (Origin), that
 * must be this central. SameSite=Strict cookies already stop most of it; this holds for
 * browsers that ignore SameSite, and for a login form posted from elsewhere.
 * Bearer tokens are never sent by a browser on its own, so they need neither.
 */
export function checkCsrf(request: FastifyRequest, auth: RequestAuth, route: Route | undefined): void {
  if (isSafe(request.method) || auth.via === 'token') return;
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== `${request.protocol}://${request.host}`) {
    throw forbidden(`csrf: a request from ${origin.slice(0, 100)} may not change anything here`);
  }
  // An open route (the login) changes nothing the cookie grants, so a browser still holding
  // a session may log in again, as another user, without that session's token.
  if (route?.access === 'public') return;
  if (auth.via !== 'session' || auth.sessionId === null) return;
  const header = request.headers['x-csrf-token'];
  const body = request.body as { _csrf?: unknown } | undefined;
  const presented = typeof header === 'string' ? header : typeof body?._csrf === 'string' ? body._csrf : undefined;
  if (presented === undefined || !csrfTokenMatches(auth.sessionId, presented)) {
    throw forbidden('csrf: send the session\'s X-CSRF-Token header (from POST or GET /api/session) with every change');
  }
}
