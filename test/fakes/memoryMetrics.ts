import type { CounterLike, GaugeLike, MetricsRegistryLike } from '../../broker/mqtt/brokerMetrics.js';

/** A metrics registry that keeps values in a map, so tests can read a counter by name. */
export class MemoryMetrics implements MetricsRegistryLike {
  private readonly values = new Map<string, number>();

  counter(name: string): CounterLike {
    this.values.set(name, 0);
    return { inc: (by = 1) => this.values.set(name, (this.values.get(name) ?? 0) + by) };
  }

  gauge(name: string): GaugeLike {
    this.values.set(name, 0);
    return { set: (value) => this.values.set(name, value) };
  }

  value(name: string): number {
    const value = this.values.get(name);
    if (value === undefined) throw new Error(`no metric ${name}`);
    return value;
  }
}
