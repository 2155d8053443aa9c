import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Logger } from '../protocol/logger.js';

/**
 * The central's metrics on prom-client (STYLE.md: prefer it to a hand-written registry).
 * One prom-client `Registry` per instance, never prom-client's global default one: a test
 * process runs several centrals, and each must count only its own traffic.
 */

/** What `GET /metrics` sends, whatever serves HTTP (node:http today, fastify next). */
export interface Exposition {
  readonly contentType: string;
  readonly text: string;
}

export interface GaugeOptions<L extends string> {
  readonly labelNames?: readonly L[];
  /**
   * Reads the value at scrape time, for values that live elsewhere (how many terminals
   * the store says are online). Unlabelled gauges only: one read, one value.
   */
  readonly read?: () => number | Promise<number>;
}

export interface MetricsRegistryDeps {
  /** Where a failing `read` is reported (`api.metric-collect-failed`). */
  readonly logger: Logger;
  /**
   * The process metrics (CPU, memory, event-loop lag, GC, file descriptors) under `qrgate_`.
   * Default true. prom-client leaves an event-loop-delay monitor and a GC observer running
   * per registry with no way to stop them, so a short-lived registry that nobody scrapes
   * (a test's, `qrgate ingest`'s stats) can leave them out.
   */
  readonly processMetrics?: boolean;
}

export class MetricsRegistry {
  private readonly registry = new Registry();

  constructor(private readonly deps: MetricsRegistryDeps) {
    if (deps.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'qrgate_' });
  }

  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter<L>({ name, help, labelNames, registers: [this.registry] });
  }

  gauge<L extends string = never>(name: string, help: string, options: GaugeOptions<L> = {}): Gauge<L> {
    const { labelNames = [], read } = options;
    if (read !== undefined && labelNames.length > 0) throw new Error(`${name}: a gauge read at scrape time has no labels`);
    const logger = this.deps.logger;
    return new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      // prom-client fails the whole scrape when one collect rejects; a store that is briefly
      // locked must not hide every counter with it. The gauge keeps its last value instead.
      ...(read === undefined
        ? {}
        : {
            async collect(this: Gauge<L>) {
              try {
                this.set(await read());
              } catch (err) {
                logger.warn({ err, metric: name }, 'api.metric-collect-failed');
              }
            },
          }),
    });
  }

  /** Each counter's total over its series, by name: for log lines where nobody scrapes (`qrgate ingest`). */
  async counterTotals(): Promise<Record<string, number>> {
    const metrics = await this.registry.getMetricsAsJSON();
    return Object.fromEntries(
      metrics.filter((metric) => String(metric.type) === 'counter').map((metric) => [metric.name, metric.values.reduce((sum, { value }) => sum + value, 0)]),
    );
  }

  /** The current values in the Prometheus text format 0.0.4, with its content type. */
  async exposition(): Promise<Exposition> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
