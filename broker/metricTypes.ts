/**
 * What counting code needs of a metrics registry: two methods, typed structurally, so the
 * broker's hooks, ingestion and their tests depend on this and not on prom-client
 * (broker/metrics.ts implements it; test/fakes/memoryMetrics.ts fakes it).
 */

/** Label values of one series; prom-client takes a partial set too. */
export type LabelValues<L extends string> = Readonly<Partial<Record<L, string>>>;

export interface CounterLike<L extends string = never> {
  inc(by?: number): void;
  inc(labels: LabelValues<L>, by?: number): void;
}

export interface GaugeLike {
  set(value: number): void;
}

export interface MetricsRegistryLike {
  counter<L extends string = never>(name: string, help: string, labelNames?: readonly L[]): CounterLike<L>;
  gauge(name: string, help: string): GaugeLike;
}
