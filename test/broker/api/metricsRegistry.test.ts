import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../../broker/metrics.js';

// broker/metrics.ts is tested here, beside its only reader (/metrics).
describe('MetricsRegistry', () => {
  it('renders counters and gauges in the Prometheus text format, in registration order', async () => {
    const registry = new MetricsRegistry();
    const ingested = registry.counter('qrgate_events_ingested_total', 'scan events stored for the first time');
    const refused = registry.counter('qrgate_mqtt_refused_total', 'refusals by reason', ['reason']);
    const depth = registry.gauge('qrgate_queue_depth', 'events waiting for a commit');
    registry.gauge('qrgate_terminals_online', 'terminals connected now', { collect: async () => 7 });

    ingested.inc();
    ingested.inc(41);
    refused.inc({ reason: 'bad-password' });
    refused.inc({ reason: 'bad-password' }, 2);
    refused.inc({ reason: 'say "hi"\\\nbye' });
    depth.set(12.5);
    expect(await registry.collect()).toEqual([]);

    expect(registry.render()).toBe(
      [
        '# HELP qrgate_events_ingested_total scan events stored for the first time',
        '# TYPE qrgate_events_ingested_total counter',
        'qrgate_events_ingested_total 42',
        '# HELP qrgate_mqtt_refused_total refusals by reason',
        '# TYPE qrgate_mqtt_refused_total counter',
        'qrgate_mqtt_refused_total{reason="bad-password"} 3',
        'qrgate_mqtt_refused_total{reason="say \\"hi\\"\\\\\\nbye"} 1',
        '# HELP qrgate_queue_depth events waiting for a commit',
        '# TYPE qrgate_queue_depth gauge',
        'qrgate_queue_depth 12.5',
        '# HELP qrgate_terminals_online terminals connected now',
        '# TYPE qrgate_terminals_online gauge',
        'qrgate_terminals_online 7',
        '',
      ].join('\n'),
    );
    expect(ingested.get()).toBe(42);
    expect(refused.get({ reason: 'bad-password' })).toBe(3);
  });

  it('shows an untouched unlabelled metric as 0 and a labelled one with no series', () => {
    const registry = new MetricsRegistry();
    registry.counter('a_total', 'a');
    registry.counter('b_total', 'b', ['kind']);
    expect(registry.render()).toBe('# HELP a_total a\n# TYPE a_total counter\na_total 0\n# HELP b_total b\n# TYPE b_total counter\n');
  });

  it('escapes HELP text and writes special values as Prometheus spells them', () => {
    const registry = new MetricsRegistry();
    const gauge = registry.gauge('g', 'line one\nback\\slash', { labelNames: ['k'] });
    gauge.set({ k: 'nan' }, Number.NaN);
    gauge.set({ k: 'up' }, Infinity);
    gauge.set({ k: 'down' }, -Infinity);
    expect(registry.render()).toBe(
      '# HELP g line one\\nback\\\\slash\n# TYPE g gauge\ng{k="nan"} NaN\ng{k="up"} +Inf\ng{k="down"} -Inf\n',
    );
  });

  it('refuses bad names, duplicates, wrong labels and a counter going down', () => {
    const registry = new MetricsRegistry();
    const counter = registry.counter('ok_total', 'fine', ['reason']);
    expect(() => registry.counter('ok_total', 'again')).toThrow(expect.objectContaining({ code: 'metric-duplicate' }));
    expect(() => registry.gauge('ok_total', 'again')).toThrow(expect.objectContaining({ code: 'metric-duplicate' }));
    expect(() => registry.counter('bad-name', 'x')).toThrow(expect.objectContaining({ code: 'metric-name-invalid' }));
    expect(() => registry.counter('x_total', 'x', ['__reserved'])).toThrow(expect.objectContaining({ code: 'metric-name-invalid' }));
    expect(() => counter.inc()).toThrow(expect.objectContaining({ code: 'labels-invalid' }));
    expect(() => counter.inc({ reason: 'a', extra: 'b' } as { reason: string })).toThrow(expect.objectContaining({ code: 'labels-invalid' }));
    expect(() => counter.inc({ reason: 'a' }, -1)).toThrow(expect.objectContaining({ code: 'counter-decreased' }));
    expect(() => registry.gauge('y', 'y', { labelNames: ['k'], collect: () => 1 })).toThrow(expect.objectContaining({ code: 'labels-invalid' }));
  });

  it('reads each collected gauge on its own: a failing source keeps its last value', async () => {
    const registry = new MetricsRegistry();
    let healthy = true;
    registry.gauge('from_store', 'x', {
      collect: async () => {
        if (!healthy) throw new Error('database is locked');
        return 5;
      },
    });
    let count = 1;
    registry.gauge('from_memory', 'y', { collect: () => count });
    await registry.collect();
    healthy = false;
    count = 2;
    const failures = await registry.collect();
    expect(failures).toEqual([{ metric: 'from_store', err: new Error('database is locked') }]);
    expect(registry.render()).toContain('\nfrom_store 5\n');
    expect(registry.render()).toContain('\nfrom_memory 2\n');
  });
});
