import { only, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';

/**
 * `GET /metrics`: Prometheus text format, for a bearer token (Prometheus sends one natively:
 * `authorization: {credentials: …}` in its scrape config). Counts only, no personal data,
 * so inspectors may read it too. A gauge whose source fails keeps its last value and the
 * registry logs it (broker/metrics.ts); the scrape still succeeds, so the counters are not
 * lost with it.
 */
export function metricsRoute(deps: Pick<RouteDeps, 'metrics'>): ProtectedRoute {
  return {
    path: '/metrics',
    access: only('admin', 'inspector'),
    async handle() {
      const { contentType, text } = await deps.metrics.exposition();
      return { status: 200, text, contentType };
    },
  };
}
