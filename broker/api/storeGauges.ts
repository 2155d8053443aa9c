import type { MetricsRegistry } from '../metrics.js';
import type { CentralStore } from '../store/centralStore.js';

/**
 * Gauges whose truth is in the store, read at scrape time (a failing read keeps the last
 * value: broker/metrics.ts). Registered once per registry by createApiServer; nothing
 * else may register these names.
 */
export function registerStoreGauges(metrics: Pick<MetricsRegistry, 'gauge'>, store: CentralStore): void {
  metrics.gauge('qrgate_terminals_online', 'terminals connected now (removed terminals not counted)', {
    read: async () => (await store.fleet()).filter((t) => t.online && !t.removed).length,
  });
  metrics.gauge('qrgate_sequence_gaps', 'open ranges of missing sequence numbers, all terminals', {
    read: async () => (await store.gaps()).length,
  });
  metrics.gauge('qrgate_sequence_missing_events', 'events missing from the open sequence gaps, all terminals', {
    read: async () => (await store.gaps()).reduce((sum, gap) => sum + gap.toSeq - gap.fromSeq + 1, 0),
  });
}
