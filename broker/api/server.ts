import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../../protocol/logger.js';
import type { MetricsRegistry } from '../metrics.js';
import type { CentralStore } from '../store/centralStore.js';
import { badRequest, HttpError, notFound, writeResponse, type ApiResponse } from './http.js';
import { Router } from './router.js';
import { checkpointsRoute } from './routes/checkpoints.js';
import { checkpointStatsRoute } from './routes/checkpointStats.js';
import { eventsRoute } from './routes/events.js';
import { healthRoute } from './routes/health.js';
import { metricsRoute } from './routes/metrics.js';
import { terminalsRoute } from './routes/terminals.js';
import { registerStoreGauges } from './storeGauges.js';

export interface ApiServerDeps {
  readonly store: CentralStore;
  /** The central's one registry; the store gauges (storeGauges.ts) are registered on it here. */
  readonly metrics: MetricsRegistry;
  readonly logger: Logger;
  /** Clock for the stats windows, ms since the epoch. Default Date.now. */
  readonly now?: () => number;
  /** Longer request targets get 414. Default 4096 characters, far above any real query. */
  readonly maxUrlLength?: number;
}

const allowedMethods = ['GET', 'HEAD'];

/**
 * The central's HTTP API (DESIGN.md "Central HTTP API"): node:http, no framework. Returns
 * the server unstarted; the caller owns listen() and close(). No request can crash it: a
 * route's failure becomes a 500 and a log line.
 */
export function createApiServer(deps: ApiServerDeps): Server {
  const logger = deps.logger.child({ component: 'api' });
  const maxUrlLength = deps.maxUrlLength ?? 4096;
  registerStoreGauges(deps.metrics, deps.store);
  const router = new Router([
    checkpointsRoute({ store: deps.store }),
    checkpointStatsRoute({ store: deps.store, now: deps.now ?? Date.now }),
    eventsRoute({ store: deps.store }),
    terminalsRoute({ store: deps.store }),
    healthRoute({ store: deps.store, logger }),
    metricsRoute({ metrics: deps.metrics, logger }),
  ]);

  async function answer(req: IncomingMessage): Promise<ApiResponse> {
    const target = req.url ?? '/';
    if (target.length > maxUrlLength) throw new HttpError(414, 'uri-too-long', `the request target is longer than ${maxUrlLength} characters`);
    const url = parseTarget(target);
    const match = router.match(url.pathname);
    if (match === null) throw notFound(`no such endpoint: ${url.pathname.length > 100 ? `${url.pathname.slice(0, 100)}…` : url.pathname}`);
    if (!allowedMethods.includes(req.method ?? '')) {
      throw new HttpError(405, 'method-not-allowed', `${match.route.path} answers GET only`, { allow: allowedMethods.join(', ') });
    }
    return match.route.handle({ params: match.params, query: url.searchParams });
  }

  return createServer((req, res) => {
    const startedMs = performance.now();
    answer(req)
      .catch((err: unknown): ApiResponse => {
        if (err instanceof HttpError) return err.toResponse();
        logger.error({ err, method: req.method, url: req.url?.slice(0, 200) }, 'api.failed');
        return new HttpError(500, 'internal', 'internal error; see the central log').toResponse();
      })
      .then((response) => {
        send(res, response);
        logger.debug({ method: req.method, url: req.url?.slice(0, 200), status: response.status, ms: Math.round(performance.now() - startedMs) }, 'api.request');
      })
      .catch((err: unknown) => logger.error({ err }, 'api.write-failed'));
  });
}

/** Origin-form (`/path?query`) is the norm; absolute-form must be accepted too (RFC 9112 §3.2.2). */
function parseTarget(target: string): URL {
  try {
    // Prefixing instead of resolving against a base keeps `//x/y` a path, not a host.
    return new URL(target.startsWith('/') ? `http://api.invalid${target}` : target);
  } catch {
    throw badRequest('the request target is not a valid URL');
  }
}

function send(res: ServerResponse, response: ApiResponse): void {
  // The client may have gone already; nothing to tell it then.
  if (res.headersSent || res.destroyed) return;
  writeResponse(res, response);
}
