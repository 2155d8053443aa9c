/**
 * A minimal metrics registry rendering the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format):
 * counters and gauges, optional labels, gauges that read their value at scrape time.
 * One registry per central process, handed to every part that counts something.
 */

export const prometheusContentType = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricsErrorCode = 'metric-name-invalid' | 'metric-duplicate' | 'labels-invalid' | 'counter-decreased';

export class MetricsError extends Error {
  constructor(
    readonly code: MetricsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MetricsError';
  }
}

export type LabelValues<L extends string> = Readonly<Record<L, string>>;

const metricNamePattern = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
// Names starting with __ are reserved for Prometheus itself.
const labelNamePattern = /^(?!__)[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Escapes per the format: label values escape \, " and newline; HELP escapes \ and newline. */
const escapeLabelValue = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (help: string): string => help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

abstract class Metric<L extends string> {
  abstract readonly type: 'counter' | 'gauge';
  /** Keyed by the rendered label set (`{a="x",b="y"}`, or '' without labels). */
  protected readonly series = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
  ) {
    // An unlabelled series exists from the start: a counter that never moved reads 0, not absent.
    if (labelNames.length === 0) this.series.set('', 0);
  }

  protected seriesKey(labels: LabelValues<L> | undefined): string {
    const given = labels === undefined ? [] : Object.keys(labels);
    if (given.length !== this.labelNames.length || !this.labelNames.every((name) => labels !== undefined && typeof labels[name] === 'string')) {
      throw new MetricsError('labels-invalid', `${this.name} takes labels [${this.labelNames.join(', ')}], got [${given.join(', ')}]`);
    }
    if (labels === undefined || this.labelNames.length === 0) return '';
    return `{${this.labelNames.map((name) => `${name}="${escapeLabelValue(labels[name])}"`).join(',')}}`;
  }

  /** Current value of one series; 0 for a label set never touched. */
  get(labels?: LabelValues<L>): number {
    return this.series.get(this.seriesKey(labels)) ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    for (const [key, value] of this.series) lines.push(`${this.name}${key} ${formatValue(value)}`);
    return lines.join('\n');
  }
}

export class Counter<L extends string = never> extends Metric<L> {
  readonly type = 'counter';

  inc(by?: number): void;
  inc(labels: LabelValues<L>, by?: number): void;
  inc(labelsOrBy?: LabelValues<L> | number, by = 1): void {
    const [labels, amount] = typeof labelsOrBy === 'object' ? [labelsOrBy, by] : [undefined, labelsOrBy ?? 1];
    if (!(amount >= 0)) throw new MetricsError('counter-decreased', `${this.name} is a counter: it cannot change by ${amount}`);
    const key = this.seriesKey(labels);
    this.series.set(key, (this.series.get(key) ?? 0) + amount);
  }
}

export interface GaugeOptions<L extends string> {
  readonly labelNames?: readonly L[];
  /**
   * Reads the value at scrape time (MetricsRegistry.collect), for values that live
   * elsewhere, e.g. how many terminals the store says are online. Unlabelled gauges only.
   */
  readonly collect?: () => number | Promise<number>;
}

export class Gauge<L extends string = never> extends Metric<L> {
  readonly type = 'gauge';

  constructor(
    name: string,
    help: string,
    labelNames: readonly L[],
    readonly collect?: () => number | Promise<number>,
  ) {
    super(name, help, labelNames);
  }

  set(value: number): void;
  set(labels: LabelValues<L>, value: number): void;
  set(labelsOrValue: LabelValues<L> | number, value?: number): void {
    if (typeof labelsOrValue === 'number') this.series.set(this.seriesKey(undefined), labelsOrValue);
    else this.series.set(this.seriesKey(labelsOrValue), value ?? 0);
  }
}

export interface CollectFailure {
  readonly metric: string;
  readonly err: unknown;
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Counter<string> | Gauge<string>>();

  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.register(new Counter<L>(name, help, labelNames));
  }

  gauge<L extends string = never>(name: string, help: string, options: GaugeOptions<L> = {}): Gauge<L> {
    const labelNames = options.labelNames ?? [];
    if (options.collect !== undefined && labelNames.length > 0) {
      throw new MetricsError('labels-invalid', `${name}: a gauge with a collect callback has no labels`);
    }
    return this.register(new Gauge<L>(name, help, labelNames, options.collect));
  }

  /**
   * Runs every gauge's collect callback, each on its own: one that fails keeps its last
   * value and is reported, the others are still read.
   */
  async collect(): Promise<CollectFailure[]> {
    const failures: CollectFailure[] = [];
    await Promise.all(
      [...this.metrics.values()].map(async (metric) => {
        if (!(metric instanceof Gauge) || metric.collect === undefined) return;
        try {
          metric.set(await metric.collect());
        } catch (err) {
          failures.push({ metric: metric.name, err });
        }
      }),
    );
    return failures;
  }

  /** The exposition text of the current values, metrics in registration order. */
  render(): string {
    return [...this.metrics.values()].map((metric) => `${metric.render()}\n`).join('');
  }

  private register<M extends Counter<string> | Gauge<string>>(metric: M): M {
    if (!metricNamePattern.test(metric.name)) throw new MetricsError('metric-name-invalid', `bad metric name ${JSON.stringify(metric.name)}`);
    const badLabel = metric.labelNames.find((label) => !labelNamePattern.test(label));
    if (badLabel !== undefined) throw new MetricsError('metric-name-invalid', `${metric.name}: bad label name ${JSON.stringify(badLabel)}`);
    // Two parts counting into one name would each see half the truth.
    if (this.metrics.has(metric.name)) throw new MetricsError('metric-duplicate', `metric ${metric.name} is already registered`);
    this.metrics.set(metric.name, metric);
    return metric;
  }
}
