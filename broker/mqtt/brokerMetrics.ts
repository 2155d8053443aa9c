import { createScanCounter, type ScanCounter } from '../ingestion/scanCounter.js';
import type { CounterLike, GaugeLike, MetricsRegistryLike } from '../metricTypes.js';

/**
 * The counters and gauges the broker side exports on `/metrics`. Typed structurally
 * against the registry in broker/metrics.ts (prom-client underneath), so hooks and tests
 * depend on two methods, not on prom-client.
 */

export type { CounterLike, GaugeLike, LabelValues, MetricsRegistryLike } from '../metricTypes.js';

export interface BrokerMetricsOptions {
  /** Adds the `checkpoint` label to `qrgate_scans_total` (config `metrics.perCheckpoint`). */
  readonly perCheckpoint?: boolean;
}

export interface BrokerMetrics {
  readonly authRefused: CounterLike;
  readonly publishRefused: CounterLike;
  readonly subscribeRefused: CounterLike;
  readonly malformed: CounterLike;
  readonly eventsIngested: CounterLike;
  readonly eventsDuplicate: CounterLike;
  readonly commits: CounterLike;
  readonly commitFailures: CounterLike;
  readonly clientsConnected: GaugeLike;
  readonly scans: ScanCounter;
}

export function createBrokerMetrics(registry: MetricsRegistryLike, options: BrokerMetricsOptions = {}): BrokerMetrics {
  return {
    authRefused: registry.counter('qrgate_mqtt_auth_refused_total', 'CONNECTs refused (bad credentials, removed terminal, retired checkpoint, bad client id)'),
    publishRefused: registry.counter('qrgate_mqtt_publish_refused_total', 'PUBLISHes outside the client ACL, acknowledged and dropped'),
    subscribeRefused: registry.counter('qrgate_mqtt_subscribe_refused_total', 'subscriptions outside the client ACL, answered with SUBACK 0x80'),
    malformed: registry.counter('qrgate_messages_malformed_total', 'events, status, telemetry or pending payloads that failed validation, dropped'),
    eventsIngested: registry.counter('qrgate_events_ingested_total', 'scan events stored for the first time'),
    eventsDuplicate: registry.counter('qrgate_events_duplicate_total', 'scan events received again after they were stored (redeliveries)'),
    commits: registry.counter('qrgate_ingest_commits_total', 'group commits of scan events'),
    commitFailures: registry.counter('qrgate_ingest_commit_failures_total', 'group commits that failed; their publishes were not acknowledged'),
    clientsConnected: registry.gauge('qrgate_mqtt_clients_connected', 'MQTT clients connected to this broker'),
    scans: createScanCounter(registry, { perCheckpoint: options.perCheckpoint ?? false }),
  };
}
