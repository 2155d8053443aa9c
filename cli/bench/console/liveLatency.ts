import type { ConsoleSession } from './session.js';
import type { BenchTerminal } from '../e2e/target.js';
import { TerminalShares } from '../e2e/terminalShares.js';
import { percentile, round } from '../stats.js';

export interface LiveLatencyOptions {
  readonly session: ConsoleSession;
  readonly entry: string;
  readonly dir: string;
  readonly terminals: readonly BenchTerminal[];
  readonly ratePerSec: number;
  readonly seconds: number;
  readonly log: (line: string) => void;
}

export interface LiveLatency {
  /** Decisions the simulated terminals recorded, and how many of them the live log delivered. */
  readonly decided: number;
  readonly received: number;
  /** The rate the terminals achieved, decisions/s. */
  readonly ratePerSec: number;
  /** Arrival at the client minus the terminal's decision time (`ts`), ms. */
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
}

/** After the last decision, how long the live log has to deliver the rest. */
const settleMs = 15_000;

/**
 * The live log (`/api/events/live`) watched while simulated terminals (real outboxes and
 * uplinks in a child process, as bench e2e runs them) decide at `ratePerSec` over MQTT:
 * per event, the time from the terminal's decision to its line reaching the client. Both
 * clocks are this machine's.
 */
export async function liveLatency(options: LiveLatencyOptions): Promise<LiveLatency> {
  const ids = new Set(options.terminals.map((t) => t.terminalId));
  const latencies: number[] = [];
  const seen = new Set<string>();
  let wake: (() => void) | null = null;
  const live = await options.session.listen('/api/events/live', (data, atMs) => {
    const event = data as { id?: string; terminalId?: string; ts?: string };
    if (event.terminalId === undefined || !ids.has(event.terminalId) || event.id === undefined || seen.has(event.id)) return;
    seen.add(event.id);
    latencies.push(atMs - Date.parse(event.ts ?? ''));
    wake?.();
  });
  const decided = options.ratePerSec * options.seconds;
  const shares = TerminalShares.start({ entry: options.entry, dir: options.dir, terminals: options.terminals, events: decided, burst: 1, processes: 1 });
  try {
    await shares.connect();
    options.log(`live log: ${options.terminals.length} terminals connected; deciding ${options.ratePerSec}/s for ${options.seconds} s`);
    const recorded = await shares.record(options.ratePerSec);
    const deadline = Date.now() + settleMs;
    while (seen.size < decided && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
    latencies.sort((a, b) => a - b);
    return {
      decided,
      received: seen.size,
      ratePerSec: Math.round((decided / recorded.durationMs) * 1000),
      p50Ms: round(percentile(latencies, 50), 1),
      p95Ms: round(percentile(latencies, 95), 1),
      maxMs: round(latencies.at(-1) ?? Number.NaN, 1),
    };
  } finally {
    live.close();
    await shares.stop().catch(() => shares.kill());
  }
}
