import { prometheusContentType } from '../../metrics.js';
import { only, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';

/**
 * `GET /metrics`: Prometheus text format, for a bearer token (Prometheus sends one natively:
 * `authorization: {credentials: …}` in its scrape config). Counts only, no personal data,
 * so inspectors may read it too. A gauge whose source fails keeps its last value and is
 * logged; the scrape still succeeds, so the counters are not lost with it.
 */
export function metricsRoute(deps: Pick<RouteDeps, 'metrics' | 'logger'>): ProtectedRoute {
  return {
    path: '/metrics',
    access: only('admin', 'inspector'),
    async handle() {
      for (const failure of await deps.metrics.collect()) deps.logger.warn({ err: failure.err, metric: failure.metric }, 'api.metric-collect-failed');
      return { status: 200, text: deps.metrics.render(), contentType: prometheusContentType };
    },
  };
}
