import type { AuditChange } from '../access/audit.js';
import type { Principal, Role } from '../access/roles.js';
import type { ApiResponse } from './http.js';

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface RouteRequest {
  /** Path parameters, percent-decoded: `{code}` in the pattern -> `params.code`. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Parsed by content type (JSON, form, CSV text); undefined without a body. Validate it (body.ts). */
  readonly body: unknown;
  /** Request cookies by name (pages read the visitor's language from one). */
  readonly cookies: Readonly<Record<string, string | undefined>>;
  /** Request headers, lower-case names (pages read Accept-Language). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The client's address, for the audit log and the login throttle. */
  readonly address: string;
  /** The id in the session cookie when the request carried a live one (logout ends it). */
  readonly sessionId: string | null;
  /** Who is asking; null on a public route without credentials. */
  readonly principal: Principal | null;
  /**
   * Records a state change in the audit log as this request's principal, from its address (the
   * CLI's twin: recordCliAudit). Written when the handler settles, before the answer is sent.
   */
  audit(change: AuditChange): void;
}

/** A protected route runs only with a principal, so its handler never checks for null. */
export interface AuthorizedRequest extends RouteRequest {
  readonly principal: Principal;
}

interface RouteBase {
  /** Default GET; GET routes answer HEAD too. */
  readonly method?: Method;
  /** Like `/api/checkpoints/{code}/stats`; a `{name}` segment matches any one segment. */
  readonly path: string;
  /** Largest body accepted, bytes; default 1 MiB (server.ts). */
  readonly bodyLimit?: number;
  /** Requests per minute per address; public routes should set it. */
  readonly rateLimitPerMinute?: number;
  /**
   * The handler reads the query itself (with parseQuery and its own schema), or ignores it
   * on purpose (/healthz: probes add parameters). Otherwise the server refuses any query
   * parameter with a 400 naming it, before the handler runs: a misspelt filter must not
   * pass as "no filter".
   */
  readonly readsQuery?: boolean;
}

/** Open to anyone: `/healthz`, the inspectors' public lookup, the login itself. */
export interface PublicRoute extends RouteBase {
  readonly access: 'public';
  handle(request: RouteRequest): Promise<ApiResponse>;
}

/**
 * Open to these roles (the server refuses the rest with 403 before the handler runs).
 * Scope inside a role (a manager's unit, a guard's checkpoints) is the handler's to check,
 * with broker/access/roles.ts.
 */
export interface ProtectedRoute extends RouteBase {
  readonly access: readonly Role[];
  handle(request: AuthorizedRequest): Promise<ApiResponse>;
}

export type Route = PublicRoute | ProtectedRoute;

export const everyRole: readonly Role[] = ['admin', 'manager', 'guard', 'inspector'];

/** `access: only('admin', 'manager')`: a typed role list, so the handler gets an AuthorizedRequest. */
export function only(...allowed: Role[]): readonly Role[] {
  return allowed;
}
