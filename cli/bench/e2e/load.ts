import { randomBytes, randomInt } from 'node:crypto';
import type { EventDraft } from '../../../gateway/outbox.js';
import type { CredentialTypeOrUnknown } from '../../../protocol/event.js';

/**
 * The load: synthetic but valid decisions, recorded at a steady aggregate rate spread
 * evenly over the terminals, so the uplinks drain while it runs and the latency measured is
 * the steady state's, not a backlog's.
 */

const scannedTypes: readonly CredentialTypeOrUnknown[] = ['cccd', 'pccovid', 'card', 'typed'];

/**
 * A gate's decision mix (like `bench scan`'s: mostly registered people): 80 % granted,
 * 8 % unknown, 4 % denied, 5 % debounced re-reads, 3 % unreadable codes. Refs are drawn from
 * a pool of random 32-byte values: realistic bytes without a getrandom() call per event.
 */
export class DraftSource {
  private readonly refs: readonly string[];

  constructor(
    private readonly random: (max: number) => number = randomInt,
    poolSize = 4096,
  ) {
    this.refs = Array.from({ length: poolSize }, () => randomBytes(32).toString('hex'));
  }

  next(): EventDraft {
    const roll = this.random(100);
    const scanned = {
      lane: 'in',
      direction: 'in' as const,
      credentialType: scannedTypes[this.random(scannedTypes.length)]!,
      credentialRef: this.refs[this.random(this.refs.length)]!,
      listVersion: 1,
      passback: false,
      passed: null,
      latencyMs: (100 + this.random(400)) / 1000,
    };
    if (roll < 80) return { ...scanned, decision: 'granted', reason: 'allowed' };
    if (roll < 88) return { ...scanned, decision: 'refused', reason: 'unknown' };
    if (roll < 92) return { ...scanned, decision: 'refused', reason: 'denied' };
    if (roll < 97) return { ...scanned, decision: 'duplicate', reason: 'debounce' };
    return { ...scanned, credentialType: 'unknown', credentialRef: null, listVersion: null, decision: 'refused', reason: 'malformed' };
  }
}

export interface PacedRecordOptions {
  readonly total: number;
  /** Aggregate decisions per second; 0 records as fast as possible. */
  readonly ratePerSec: number;
  readonly terminals: number;
  /**
   * Consecutive decisions at one terminal before the next terminal's turn (1 = strict
   * round-robin). The uplink publishes what its outbox holds when it next runs, so this is
   * roughly the events per publish; 1 is the worst case of one event per message.
   */
  readonly burst: number;
  /** Records one decision at terminal `index`. */
  readonly record: (index: number) => void;
  /**
   * Decisions recorded per turn of the event loop, at most: the uplinks in this process
   * need the loop too (acknowledgements, the next batches). Default 100, or one burst if larger.
   */
  readonly maxPerTurn?: number;
}

export interface PacedRecordResult {
  /** Date.now() of the first and the last decision. */
  readonly firstMs: number;
  readonly lastMs: number;
  /** Wall time spent, ms (performance clock). */
  readonly durationMs: number;
}

/**
 * Records `total` decisions over the terminals at `ratePerSec`, `burst` at a time per
 * terminal, terminals in turn: each turn of the event loop records what is due by now,
 * then yields (setImmediate while behind, a 1 ms timer while ahead). Falling behind is not
 * hidden: the rate achieved is in the result.
 */
export async function recordPaced(options: PacedRecordOptions): Promise<PacedRecordResult> {
  const burst = Math.max(1, options.burst);
  const maxPerTurn = options.maxPerTurn ?? Math.max(100, burst);
  const started = performance.now();
  let done = 0;
  let firstMs = Number.NaN;
  while (done < options.total) {
    const elapsedMs = performance.now() - started;
    const due = options.ratePerSec > 0 ? Math.min(options.total, Math.floor((elapsedMs * options.ratePerSec) / 1000) + 1) : options.total;
    const turn = Math.min(due - done, maxPerTurn);
    if (done === 0 && turn > 0) firstMs = Date.now();
    for (let i = 0; i < turn; i++) {
      options.record(Math.floor(done / burst) % options.terminals);
      done++;
    }
    if (done >= options.total) break;
    await (due > done ? new Promise<void>((resolve) => setImmediate(resolve)) : new Promise<void>((resolve) => setTimeout(resolve, 1)));
  }
  return { firstMs, lastMs: Date.now(), durationMs: performance.now() - started };
}
