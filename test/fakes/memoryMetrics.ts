import type { CounterLike, GaugeLike, LabelValues, MetricsRegistryLike } from '../../broker/mqtt/brokerMetrics.js';

/** A metrics registry that keeps values in a map, so tests can read a series by name and labels. */
export class MemoryMetrics implements MetricsRegistryLike {
  private readonly values = new Map<string, number>();

  counter<L extends string = never>(name: string): CounterLike<L> {
    this.values.set(name, 0);
    const add = (key: string, by: number): void => {
      this.values.set(key, (this.values.get(key) ?? 0) + by);
    };
    return {
      inc: (labelsOrBy?: LabelValues<L> | number, by: number = 1) => {
        if (typeof labelsOrBy === 'object') add(seriesKey(name, labelsOrBy), by);
        else add(name, labelsOrBy ?? 1);
      },
    };
  }

  gauge(name: string): GaugeLike {
    this.values.set(name, 0);
    return { set: (value) => this.values.set(name, value) };
  }

  /** An unlabelled metric's value; with `labels`, that series' value (0 if it never moved). */
  value(name: string, labels?: Readonly<Record<string, string>>): number {
    if (labels !== undefined) {
      if (!this.values.has(name)) throw new Error(`no metric ${name}`);
      return this.values.get(seriesKey(name, labels)) ?? 0;
    }
    const value = this.values.get(name);
    if (value === undefined) throw new Error(`no metric ${name}`);
    return value;
  }
}

function seriesKey(name: string, labels: Readonly<Record<string, string | undefined>>): string {
  return `${name}{${Object.keys(labels)
    .sort()
    .map((key) => `${key}=${JSON.stringify(labels[key])}`)
    .join(',')}}`;
}
