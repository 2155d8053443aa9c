import type { ScanEvent } from '../../protocol/event.js';
import type { MetricsRegistryLike } from '../metricTypes.js';

/**
 * `qrgate_scans_total{decision, reason}`: scan events stored for the first time, by what
 * the terminal decided (issue 12). Redeliveries are not counted: only the events the store
 * reports as new reach `count`, so the series sum equals `qrgate_events_ingested_total`.
 *
 * Cardinality: decision and reason come from the validated enums (protocol/event.ts), so
 * without checkpoints there are at most 3 × 17 series. The `checkpoint` label multiplies
 * that by the number of checkpoints that ever scanned: a few hundred gates give thousands
 * of series, each kept in this process and in Prometheus for its retention. Hence it is the
 * operator's choice (`metrics.perCheckpoint`), off by default; the store's per-checkpoint
 * statistics (`GET /api/checkpoints/{code}/stats`) answer the same question without it.
 */

export interface ScanCounter {
  count(events: readonly ScanEvent[]): void;
}

type ScanLabel = 'decision' | 'reason' | 'checkpoint';

export function createScanCounter(registry: MetricsRegistryLike, options: { readonly perCheckpoint: boolean }): ScanCounter {
  const { perCheckpoint } = options;
  const labelNames: readonly ScanLabel[] = perCheckpoint ? ['decision', 'reason', 'checkpoint'] : ['decision', 'reason'];
  const counter = registry.counter<ScanLabel>(
    'qrgate_scans_total',
    `scan events stored for the first time, by the terminal's decision and reason${perCheckpoint ? ' and by checkpoint' : ''}`,
    labelNames,
  );
  return {
    count(events) {
      // One inc per label set, not per event: a group commit carries up to thousands of
      // events but a handful of label sets, and prom-client hashes the labels on each inc.
      const tally = new Map<string, { labels: Partial<Record<ScanLabel, string>>; count: number }>();
      for (const event of events) {
        const key = perCheckpoint ? `${event.decision}/${event.reason}/${event.checkpointCode}` : `${event.decision}/${event.reason}`;
        const entry = tally.get(key);
        if (entry) entry.count++;
        else {
          const labels = { decision: event.decision, reason: event.reason, ...(perCheckpoint ? { checkpoint: event.checkpointCode } : {}) };
          tally.set(key, { labels, count: 1 });
        }
      }
      for (const { labels, count } of tally.values()) counter.inc(labels, count);
    },
  };
}
