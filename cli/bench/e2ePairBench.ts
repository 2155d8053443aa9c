import { median } from './report/render.js';
import { runE2eBench, type E2eBenchOptions, type E2eBenchResult } from './e2eBench.js';
import type { BenchStoreType } from './storeBench.js';

export interface E2ePairOptions extends Omit<E2eBenchOptions, 'broker' | 'receipts' | 'store'> {
  /** Runs of each side per store. */
  readonly rounds: number;
  /** Each store is measured on both sides, round by round. */
  readonly stores: readonly BenchStoreType[];
}

export type E2ePairRun = E2eBenchResult | { readonly error: string };

export interface E2ePairSide {
  /** In run order; a failed run keeps its place with its error. */
  readonly runs: readonly E2ePairRun[];
  /** Median stored events/s of the runs that finished; null if none did. */
  readonly eventsPerSec: number | null;
  /** Summed over the runs that finished: the guarantee holds in every run or it does not hold. */
  readonly lost: number;
  readonly lostAfterAck: number;
  readonly duplicated: number;
  readonly failed: number;
}

export interface E2ePairStore {
  readonly store: BenchStoreType;
  /** Our central (aedes + ingestion in one process). */
  readonly central: E2ePairSide;
  /** The bench's own Mosquitto on `mosquitto-config`'s password and ACL files, `qrgate ingest`, terminals with receipts. */
  readonly mosquitto: E2ePairSide;
  /** central.eventsPerSec / mosquitto.eventsPerSec (medians); null if a side has none. */
  readonly ratio: number | null;
}

export interface E2ePairResult {
  readonly mode: 'pair';
  readonly terminals: number;
  readonly events: number;
  readonly backlog: boolean;
  readonly rounds: number;
  readonly stores: readonly E2ePairStore[];
}

type Side = 'central' | 'mosquitto';

/**
 * `qrgate bench e2e --pair`: our central and the Mosquitto path with the same load, run in
 * turn, `rounds` times per store, so that both share the machine's good and bad minutes (as
 * `bench report` interleaves its peers). Which side goes first alternates by round: a side
 * that always ran second would always inherit the first one's page cache and CPU heat.
 */
export async function runE2ePairBench(options: E2ePairOptions, run: (options: E2eBenchOptions) => Promise<E2eBenchResult> = runE2eBench): Promise<E2ePairResult> {
  const log = options.log ?? (() => {});
  const runs = new Map<string, E2ePairRun[]>();
  const key = (store: BenchStoreType, side: Side): string => `${store}/${side}`;
  const { rounds: _rounds, stores: _stores, ...single } = options;
  for (let round = 1; round <= options.rounds; round++) {
    const sides: Side[] = round % 2 === 1 ? ['central', 'mosquitto'] : ['mosquitto', 'central'];
    for (const store of options.stores) {
      for (const side of sides) {
        log(`round ${round}/${options.rounds}: ${side} on ${store}`);
        const outcome = await run({ ...single, store, ...(side === 'mosquitto' ? { broker: 'mosquitto' as const, receipts: true } : {}) }).catch((err: Error): E2ePairRun => {
          log(`${side} on ${store} failed: ${err.message}`);
          return { error: err.message };
        });
        if ('eventsPerSec' in outcome) log(`${side} on ${store}: ${outcome.eventsPerSec} events/s, lost ${outcome.lost}, duplicated ${outcome.duplicated}`);
        runs.set(key(store, side), [...(runs.get(key(store, side)) ?? []), outcome]);
      }
    }
  }
  return {
    mode: 'pair',
    terminals: options.terminals,
    events: options.events,
    backlog: options.backlog,
    rounds: options.rounds,
    stores: options.stores.map((store) => {
      const central = summarise(runs.get(key(store, 'central')) ?? []);
      const mosquitto = summarise(runs.get(key(store, 'mosquitto')) ?? []);
      const ratio = central.eventsPerSec !== null && mosquitto.eventsPerSec ? Math.round((central.eventsPerSec / mosquitto.eventsPerSec) * 100) / 100 : null;
      return { store, central, mosquitto, ratio };
    }),
  };
}

export function summarise(runs: readonly E2ePairRun[]): E2ePairSide {
  const done = runs.filter((r): r is E2eBenchResult => 'eventsPerSec' in r);
  const sum = (pick: (r: E2eBenchResult) => number): number => done.reduce((total, r) => total + pick(r), 0);
  return {
    runs,
    eventsPerSec: median(done.map((r) => r.eventsPerSec)),
    lost: sum((r) => r.lost),
    lostAfterAck: sum((r) => r.lostAfterAck),
    duplicated: sum((r) => r.duplicated),
    failed: runs.length - done.length,
  };
}

/** The pair's outcome as a few lines for a terminal (without --json). */
export function pairLines(result: E2ePairResult): string[] {
  const side = (name: string, s: E2ePairSide): string =>
    `  ${name.padEnd(22)} ${s.eventsPerSec ?? '-'} events/s (median of ${s.runs.map((r) => ('eventsPerSec' in r ? r.eventsPerSec : 'failed')).join(', ')}); lost ${s.lost}, duplicated ${s.duplicated}${s.failed ? `, ${s.failed} failed` : ''}`;
  return [
    `${result.terminals} terminals, ${result.events} events${result.backlog ? ', backlog' : ''}, ${result.rounds} rounds`,
    ...result.stores.flatMap((s) => [`${s.store}: central / Mosquitto = ${s.ratio ?? '-'}`, side('qrgate central', s.central), side('Mosquitto + ingest', s.mosquitto)]),
  ];
}
