import { readFileSync } from 'node:fs';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../../protocol/logger.js';
import { recordAudit, type AuditChange, type AuditEntry } from '../access/audit.js';
import { LoginDesk } from '../access/loginDesk.js';
import { actorOf } from '../access/roles.js';
import type { CentralConfig } from '../config.js';
import { LiveEvents } from '../ingestion/liveEvents.js';
import type { MetricsRegistry } from '../metrics.js';
import { PendingScans } from '../guard/pendingScans.js';
import { TerminalCommands } from '../guard/terminalCommands.js';
import type { CentralStore } from '../store/centralStore.js';
import type { RegistryDb } from '../store/sql/registryDb.js';
import { authenticate, checkCsrf, type RequestAuth } from './authenticate.js';
import { domainHttpError } from './domainErrors.js';
import { badRequest, HttpError, notFound, type ApiResponse } from './http.js';
import type { RouteDeps } from './routes/deps.js';
import type { Pages } from './pages.js';
import { noParameters, parseQuery } from './query.js';
import { apiRoutes } from './routes/index.js';
import type { Method, Route } from './route.js';
import { sendResponse } from './send.js';
import { registerStoreGauges } from './storeGauges.js';

export interface ApiServerDeps {
  readonly config: CentralConfig;
  readonly store: CentralStore;
  /**
   * The registry, accounts and audit log, on SQLite or PostgreSQL (RegistryDb, issue 15
   * point 4): a connection or pool of the API's own, as the CLI's, so the API and the CLI
   * run the very same functions (issue 12 point 7). One for the whole server: on SQLite its
   * transactions queue the other calls on the connection.
   */
  readonly registry: RegistryDb;
  /** The central's one registry; the store gauges (storeGauges.ts) are registered on it here. */
  readonly metrics: MetricsRegistry;
  readonly logger: Logger;
  /** Clock for the stats windows and sessions, ms since the epoch. Default Date.now. */
  readonly now?: () => number;
  /**
   * The guard screen's parts: the scans pending at manual lanes, and commands to terminals.
   * Without them (an API with no broker in its process) nothing is pending and a command is 503.
   */
  readonly guard?: { readonly pending: PendingScans; readonly commands: TerminalCommands };
  /** Newly stored events for `GET /api/events/live`; default a feed nobody publishes to (an API without ingestion). */
  readonly liveEvents?: LiveEvents;
  /** The live log's heartbeat, buffer and age limits (a test's shorter heartbeat); default theirs. */
  readonly live?: RouteDeps['live'];
  /** Longer request targets get 414. Default 4096 characters, far above any real query. */
  readonly maxUrlLength?: number;
  /** Pages for people served beside the API (the console); none by default. */
  readonly pages?: Pages;
  /** In a cluster, which node holds each terminal: `node` in GET /api/terminals. */
  readonly holders?: RouteDeps['holders'];
}

/** What the server keeps per request between its hooks and the handler. */
declare module 'fastify' {
  interface FastifyRequest {
    qrgateAuth: RequestAuth;
  }
  interface FastifyContextConfig {
    qrgateRoute?: Route;
  }
}

const allMethods: readonly Method[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const defaultBodyLimit = 1024 * 1024;

/** `/api/checkpoints/{code}/stats` -> `/api/checkpoints/:code/stats` (find-my-way's syntax). */
const fastifyPath = (path: string): string => path.replace(/\{(\w+)\}/g, ':$1');

/**
 * The central's HTTP API on fastify (DESIGN.md "Central HTTP API", issue 12). Returns the
 * instance ready and unstarted; the caller owns listen() and close(). Authentication is one
 * onRequest hook before any route runs (authenticate.ts); a route declares the roles it
 * serves and checks scope inside them. No request can crash it: a route's failure is a 500
 * and a log line.
 */
export async function createApiServer(deps: ApiServerDeps): Promise<FastifyInstance> {
  const logger = deps.logger.child({ component: 'api' });
  const now = deps.now ?? Date.now;
  const registry = deps.registry;
  const maxUrlLength = deps.maxUrlLength ?? 4096;
  const http = deps.config.http;
  registerStoreGauges(deps.metrics, deps.store);

  const app = Fastify({
    logger: false,
    bodyLimit: defaultBodyLimit,
    // Behind a reverse proxy the client's address comes from X-Forwarded-For, and only then.
    trustProxy: http.trustProxy,
    ...(http.tls ? { https: { cert: readFileSync(http.tls.cert), key: readFileSync(http.tls.key) } } : {}),
    // An encoded `/` (%2F) stays inside its segment and cannot reach another route.
    routerOptions: { maxParamLength: 200 },
    rewriteUrl: (req) => normaliseTarget(req.url ?? '/'),
    // Refusals fastify makes before any hook (a malformed escape in the path) get our shape too.
    frameworkErrors: (err, _request, reply) => {
      sendResponse(reply, (frameworkError(err as FastifyError) ?? new HttpError(400, 'bad-request', 'the request target is not a valid URL')).toResponse(), false);
    },
  });
  app.decorateRequest('qrgateAuth', null as unknown as RequestAuth);
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  // Pages load scripts, styles and images from this central only, and never inline script:
  // an injected string cannot run. No upgrade-insecure-requests: a central reached over plain
  // HTTP on a site LAN would then ask for its own assets over HTTPS and load none.
  await app.register(helmet, {
    global: true,
    // same-origin, not no-referrer: under no-referrer a browser posts forms with `Origin: null`,
    // which the CSRF check must refuse; a search URL still never leaves for another site.
    referrerPolicy: { policy: 'same-origin' },
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
  });
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_req, context) =>
      new HttpError(429, 'rate-limited', `too many requests from this address: at most ${context.max} a minute; try again in ${Math.ceil(context.ttl / 1000)} s`, {
        'retry-after': String(Math.ceil(context.ttl / 1000)),
      }),
  });
  app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
  // A member's photo, posted as the file itself (the console parses no multipart); routes that take none refuse a Buffer body.
  app.addContentTypeParser(['image/jpeg', 'image/png'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (request) => {
    if (request.raw.url !== undefined && request.raw.url.length > maxUrlLength) throw new HttpError(414, 'uri-too-long', `the request target is longer than ${maxUrlLength} characters`);
    if (request.url === unparsableTarget) throw badRequest('the request target is not a valid URL');
    request.qrgateAuth = await authenticate(request, request.routeOptions.config.qrgateRoute, { db: registry, sessions: sessionPolicy(deps.config), now });
  });
  app.addHook('preHandler', async (request) => {
    checkCsrf(request, request.qrgateAuth, request.routeOptions.config.qrgateRoute);
  });

  const guard = deps.guard ?? { pending: new PendingScans({ logger, now }), commands: new TerminalCommands({ publish: null, now }) };
  const routeDeps = {
    config: deps.config,
    store: deps.store,
    registry,
    metrics: deps.metrics,
    logger,
    now,
    logins: new LoginDesk({ db: registry, logger, now, failures: http.loginFailures }),
    ...guard,
    liveEvents: deps.liveEvents ?? new LiveEvents(),
    ...(deps.live ? { live: deps.live } : {}),
    ...(deps.holders ? { holders: deps.holders } : {}),
  };
  const pageRoutes = new Set(deps.pages?.routes(routeDeps) ?? []);
  for (const [path, routes] of groupByPath([...apiRoutes(routeDeps), ...pageRoutes])) {
    for (const route of routes) {
      app.route({
        method: route.method ?? 'GET',
        url: fastifyPath(path),
        bodyLimit: route.bodyLimit ?? defaultBodyLimit,
        config: { qrgateRoute: route, ...(route.rateLimitPerMinute ? { rateLimit: { max: route.rateLimitPerMinute, timeWindow: 60_000 } } : {}) },
        handler: async (request, reply) => sendResponse(reply, await handle(route, request, registry, now), http.secureCookies || http.tls !== undefined),
      });
    }
    const served = routes.map((r) => r.method ?? 'GET');
    const others = allMethods.filter((m) => !served.includes(m));
    const allow = served.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])).join(', ');
    const answers = served.length === 1 ? `${served[0]} only` : served.join(', ');
    // A wrong method on a real path is a 405 naming the right ones, not a 404 (RFC 9110 §15.5.6).
    app.route({
      method: [...others, 'OPTIONS'],
      url: fastifyPath(path),
      handler: async (request) => {
        // find-my-way lets `{id}` match an empty segment: `GET /api/terminals/` names no path of ours at all.
        if (Object.values(request.params as Record<string, string>).includes('')) throw noSuchEndpoint(request.url);
        throw new HttpError(405, 'method-not-allowed', `${path} answers ${answers}`, { allow });
      },
    });
  }

  app.setNotFoundHandler(async (request) => {
    throw noSuchEndpoint(request.url);
  });

  app.setErrorHandler(async (err: FastifyError | HttpError, request: FastifyRequest, reply: FastifyReply) => {
    const known = err instanceof HttpError ? err : (frameworkError(err) ?? domainHttpError(err));
    if (known === null) logger.error({ err, method: request.method, path: loggedPath(request) }, 'api.failed');
    const error = known ?? new HttpError(500, 'internal', 'internal error; see the central log');
    const route = request.routeOptions.config.qrgateRoute;
    const response: ApiResponse =
      deps.pages !== undefined && route !== undefined && pageRoutes.has(route)
        ? deps.pages.renderError(error, { url: request.url, query: new URL(request.url, 'http://api.invalid').searchParams, cookies: request.cookies, headers: request.headers })
        : error.toResponse();
    return sendResponse(reply, response, false);
  });

  app.addHook('onResponse', async (request, reply) => {
    logger.debug({ method: request.method, path: loggedPath(request), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'api.request');
  });
  return app;
}

function noSuchEndpoint(url: string): HttpError {
  const pathname = url.split('?')[0] ?? '';
  return notFound(`no such endpoint: ${pathname.length > 100 ? `${pathname.slice(0, 100)}…` : pathname}`);
}

/** Marks a target no URL parser takes (`*`, `http://[`): answered 400 by the onRequest hook. */
const unparsableTarget = '/\u0000unparsable';

/**
 * Origin-form (`/path?query`) is the norm; absolute-form must be accepted too (RFC 9112
 * §3.2.2), and dot segments resolved as a browser would. Prefixing instead of resolving
 * against a base keeps `//x/y` a path, not a host; percent-escapes are left as sent.
 */
function normaliseTarget(target: string): string {
  try {
    const url = new URL(target.startsWith('/') ? `http://api.invalid${target}` : target);
    return `${url.pathname}${url.search}`;
  } catch {
    return unparsableTarget;
  }
}

/**
 * The path without its query: a query can carry a searched name or phone (`/api/members?q=…`),
 * personal data that has no place in a log line.
 */
function loggedPath(request: FastifyRequest): string {
  return (request.url.split('?')[0] ?? '').slice(0, 200);
}

function sessionPolicy(config: CentralConfig) {
  return { idleMs: config.http.sessions.idleMinutes * 60_000, absoluteMs: config.http.sessions.absoluteHours * 3_600_000 };
}

function groupByPath(routes: readonly Route[]): Map<string, Route[]> {
  const byPath = new Map<string, Route[]>();
  for (const route of routes) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route]);
  return byPath;
}

/**
 * Runs a route. What it records with `audit` is written when its handler settles, before the
 * answer leaves (an entry recorded before a failure is kept, as the change it names may have
 * happened): the handler calls `audit` without awaiting, whichever engine holds the log.
 */
async function handle(route: Route, request: FastifyRequest, registry: RegistryDb, now: () => number): Promise<ApiResponse> {
  const auth = request.qrgateAuth;
  const recorded: AuditEntry[] = [];
  const atMs: number[] = [];
  const common = {
    params: request.params as Record<string, string>,
    query: new URL(request.url, 'http://api.invalid').searchParams,
    body: request.body,
    cookies: request.cookies,
    headers: request.headers,
    address: request.ip,
    sessionId: auth.sessionId,
    audit(change: AuditChange) {
      if (auth.principal === null) throw new Error(`audit ${change.action}: a public route has no principal to record`);
      recorded.push({ ...change, actor: actorOf(auth.principal), source: request.ip });
      atMs.push(now());
    },
  };
  if (route.readsQuery !== true) parseQuery(common.query, noParameters);
  try {
    if (route.access === 'public') return await route.handle({ ...common, principal: auth.principal });
    // authenticate() has refused a protected route without a principal already.
    return await route.handle({ ...common, principal: auth.principal! });
  } finally {
    for (const [i, entry] of recorded.entries()) await recordAudit(registry, entry, atMs[i]);
  }
}

/** fastify's own refusals (bad JSON, wrong content type, body too large, bad URL) in our `{error, reason}` shape. */
function frameworkError(err: FastifyError): HttpError | null {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError(415, 'unsupported-media-type', 'body: send application/json (or a form, or text/csv where a route takes a file)');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, 'payload-too-large', 'body: larger than this endpoint accepts');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpError(400, 'bad-request', 'body: empty, but the content type says JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpError(400, 'bad-request', 'body: its length does not match Content-Length');
    case 'FST_ERR_BAD_URL':
      return new HttpError(400, 'bad-request', 'path: malformed percent-encoding');
    default:
      // JSON.parse failures carry statusCode 400 and no code of fastify's.
      if (err.statusCode === 400 && err instanceof SyntaxError) return new HttpError(400, 'bad-request', 'body: not valid JSON');
      if (err.statusCode === 429) return new HttpError(429, 'rate-limited', err.message);
      return null;
  }
}
