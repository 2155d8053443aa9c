import type { Logger } from '../../../protocol/logger.js';
import { prometheusContentType, type MetricsRegistry } from '../../metrics.js';
import type { Route } from '../router.js';

/**
 * `GET /metrics`: Prometheus text format. A gauge whose source fails keeps its last value
 * and is logged; the scrape still succeeds, so the counters are not lost with it.
 */
export function metricsRoute(deps: { readonly metrics: MetricsRegistry; readonly logger: Logger }): Route {
  return {
    path: '/metrics',
    async handle() {
      for (const failure of await deps.metrics.collect()) deps.logger.warn({ err: failure.err, metric: failure.metric }, 'api.metric-collect-failed');
      return { status: 200, text: deps.metrics.render(), contentType: prometheusContentType };
    },
  };
}
