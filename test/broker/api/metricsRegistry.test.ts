import { describe, expect, it } from 'vitest';
import { registerStoreGauges } from '../../../broker/api/storeGauges.js';
import { MetricsRegistry } from '../../../broker/metrics.js';
import { createBrokerMetrics } from '../../../broker/mqtt/brokerMetrics.js';
import { captureLogger, silentLogger } from '../../fakes/captureLogger.js';
import { useTestStore } from '../../helpers/sqliteStore.js';
import { parseExposition, sampleValue } from '../../helpers/prometheusText.js';

async function scrape(registry: MetricsRegistry) {
  const exposition = await registry.exposition();
  return { ...exposition, ...parseExposition(exposition.text) };
}

const quiet = () => new MetricsRegistry({ logger: silentLogger(), processMetrics: false });

describe('MetricsRegistry (prom-client)', () => {
  const testStore = useTestStore();
  it('writes counters and gauges in the Prometheus text format 0.0.4, label values escaped', async () => {
    const registry = quiet();
    const ingested = registry.counter('qrgate_events_ingested_total', 'scan events stored for the first time');
    const refused = registry.counter('qrgate_refused_total', 'refusals by reason', ['reason']);
    registry.gauge('qrgate_queue_depth', 'events waiting for a commit').set(12.5);
    registry.gauge('qrgate_from_store', 'read at scrape time', { read: async () => 7 });
    ingested.inc();
    ingested.inc(41);
    refused.inc({ reason: 'bad-password' });
    refused.inc({ reason: 'bad-password' }, 2);
    refused.inc({ reason: 'say "hi"\\\nbye' });

    const { contentType, types, samples } = await scrape(registry);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(Object.fromEntries(types)).toEqual({
      qrgate_events_ingested_total: 'counter',
      qrgate_refused_total: 'counter',
      qrgate_queue_depth: 'gauge',
      qrgate_from_store: 'gauge',
    });
    expect(sampleValue(samples, 'qrgate_events_ingested_total')).toBe(42);
    expect(sampleValue(samples, 'qrgate_refused_total', { reason: 'bad-password' })).toBe(3);
    expect(sampleValue(samples, 'qrgate_refused_total', { reason: 'say "hi"\\\nbye' })).toBe(1);
    expect(sampleValue(samples, 'qrgate_queue_depth')).toBe(12.5);
    expect(sampleValue(samples, 'qrgate_from_store')).toBe(7);
  });

  it('keeps every metric name the central exported before, and adds the process metrics under qrgate_', async () => {
    const registry = new MetricsRegistry({ logger: silentLogger() });
    createBrokerMetrics(registry);
    registerStoreGauges(registry, await testStore());
    const { types, samples } = await scrape(registry);
    expect(Object.fromEntries(types)).toMatchObject({
      qrgate_mqtt_auth_refused_total: 'counter',
      qrgate_mqtt_publish_refused_total: 'counter',
      qrgate_mqtt_subscribe_refused_total: 'counter',
      qrgate_messages_malformed_total: 'counter',
      qrgate_events_ingested_total: 'counter',
      qrgate_events_duplicate_total: 'counter',
      qrgate_ingest_commits_total: 'counter',
      qrgate_ingest_commit_failures_total: 'counter',
      qrgate_mqtt_clients_connected: 'gauge',
      qrgate_terminals_online: 'gauge',
      qrgate_sequence_gaps: 'gauge',
      qrgate_sequence_missing_events: 'gauge',
      qrgate_scans_total: 'counter',
      qrgate_process_cpu_seconds_total: 'counter',
      qrgate_process_resident_memory_bytes: 'gauge',
      qrgate_nodejs_eventloop_lag_seconds: 'gauge',
      qrgate_nodejs_heap_size_used_bytes: 'gauge',
    });
    // An unlabelled counter that never moved reads 0, not absent (test/helpers/centralApi.ts metricValue).
    expect(sampleValue(samples, 'qrgate_events_ingested_total')).toBe(0);
    expect([...types.keys()].filter((name) => !name.startsWith('qrgate_'))).toEqual([]);
  });

  it('answers a scrape when a gauge source fails: that gauge keeps its last value and the failure is logged', async () => {
    const log = captureLogger('info');
    const registry = new MetricsRegistry({ logger: log.logger, processMetrics: false });
    let healthy = true;
    registry.gauge('from_store', 'x', {
      read: async () => {
        if (!healthy) throw new Error('database is locked');
        return 5;
      },
    });
    let count = 1;
    registry.gauge('from_memory', 'y', { read: () => count });
    registry.gauge('throws_at_once', 'z', {
      read: () => {
        throw new Error('not async at all');
      },
    });
    registry.counter('still_here_total', 'a counter').inc(3);
    expect(sampleValue((await scrape(registry)).samples, 'from_store')).toBe(5);

    healthy = false;
    count = 2;
    const { samples } = await scrape(registry);
    expect(sampleValue(samples, 'from_store')).toBe(5);
    expect(sampleValue(samples, 'from_memory')).toBe(2);
    expect(sampleValue(samples, 'throws_at_once')).toBe(0);
    expect(sampleValue(samples, 'still_here_total')).toBe(3);
    const failures = log.messages('api.metric-collect-failed');
    expect(failures.map((line) => [line.metric, line.level, (line.err as { message: string }).message]).sort()).toEqual([
      ['from_store', 40, 'database is locked'],
      ['throws_at_once', 40, 'not async at all'],
      ['throws_at_once', 40, 'not async at all'],
    ]);
  });

  it('gives each instance its own registry: two centrals in one process count apart', async () => {
    const first = quiet();
    const second = quiet();
    const a = createBrokerMetrics(first);
    createBrokerMetrics(second);
    a.eventsIngested.inc(5);
    expect(sampleValue((await scrape(first)).samples, 'qrgate_events_ingested_total')).toBe(5);
    expect(sampleValue((await scrape(second)).samples, 'qrgate_events_ingested_total')).toBe(0);
  });

  it('refuses a name registered twice, bad names, a counter going down, and labels on a gauge read at scrape time', () => {
    const registry = quiet();
    const counter = registry.counter('ok_total', 'fine', ['reason']);
    // Two parts counting into one name would each see half the truth.
    expect(() => registry.counter('ok_total', 'again')).toThrow(/already been registered/);
    expect(() => registry.gauge('ok_total', 'again')).toThrow(/already been registered/);
    expect(() => registry.counter('bad-name', 'x')).toThrow(/Invalid metric name/);
    expect(() => registry.counter('x_total', 'x', ['bad-label'])).toThrow(/Invalid label name/);
    expect(() => counter.inc({ reason: 'a' }, -1)).toThrow(/not possible to decrease/);
    expect(() => registry.gauge('y', 'y', { labelNames: ['k'], read: () => 1 })).toThrow(/has no labels/);
  });

  it('sums each counter over its series for a log line', async () => {
    const registry = quiet();
    registry.counter('plain_total', 'x').inc(2);
    const labelled = registry.counter('labelled_total', 'y', ['k']);
    labelled.inc({ k: 'a' }, 3);
    labelled.inc({ k: 'b' }, 4);
    registry.gauge('not_a_counter', 'z').set(9);
    expect(await registry.counterTotals()).toEqual({ plain_total: 2, labelled_total: 7 });
  });
});
