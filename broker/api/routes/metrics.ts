import type { Logger } from '../../../protocol/logger.js';
import type { MetricsRegistry } from '../../metrics.js';
import type { Route } from '../router.js';

export interface MetricsRouteDeps {
  readonly metrics: Pick<MetricsRegistry, 'exposition'>;
  /**
   * Unused: a gauge whose source fails is logged by the registry itself (broker/metrics.ts),
   * whoever serves the scrape. Accepted until broker/api/server.ts stops passing it.
   */
  readonly logger?: Logger;
}

/**
 * `GET /metrics`: Prometheus text format. A gauge whose source fails keeps its last value;
 * the scrape still succeeds, so the counters are not lost with it.
 */
export function metricsRoute(deps: MetricsRouteDeps): Route {
  return {
    path: '/metrics',
    async handle() {
      const { contentType, text } = await deps.metrics.exposition();
      return { status: 200, text, contentType };
    },
  };
}
