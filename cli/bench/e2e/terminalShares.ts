import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PacedRecordResult } from './load.js';
import type { BenchTerminal } from './target.js';
import { TerminalsChild } from './terminalsChild.js';

export interface TerminalSharesOptions {
  /** The qrgate entry the children run (the bench's own). */
  readonly entry: string;
  readonly dir: string;
  readonly terminals: readonly BenchTerminal[];
  readonly events: number;
  readonly burst: number;
  /** How many `bench e2e-terminals` processes share the terminals. */
  readonly processes: number;
}

/** Splits `total` in proportion to `weights`, whole numbers that add up to `total`. */
export function proportional(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const shares = weights.map((w) => Math.floor((total * w) / sum));
  let rest = total - shares.reduce((a, b) => a + b, 0);
  for (let i = 0; rest > 0; i = (i + 1) % shares.length, rest--) shares[i]! += 1;
  return shares;
}

/**
 * The simulated terminals, split into contiguous shares over a few child processes
 * (terminalsIpc.ts says why), driven together: each share gets its part of the decisions
 * and of the rate, and every step runs in all of them at once.
 */
export class TerminalShares {
  private constructor(private readonly children: readonly TerminalsChild[]) {}

  static start(options: TerminalSharesOptions): TerminalShares {
    const processes = Math.max(1, Math.min(options.processes, options.terminals.length));
    const sizes = proportional(options.terminals.length, new Array<number>(processes).fill(1));
    const events = proportional(options.events, sizes);
    let first = 0;
    const children = sizes.map((size, i) => {
      const dir = join(options.dir, `share-${i + 1}`);
      mkdirSync(dir, { recursive: true });
      const terminals = options.terminals.slice(first, first + size);
      first += size;
      return new TerminalsChild(options.entry, dir, { dir: join(dir, 'db'), terminals, events: events[i]!, burst: options.burst });
    });
    return new TerminalShares(children);
  }

  get pids(): number[] {
    return this.children.map((child) => child.pid);
  }

  /** `--backlog`: every share records all its decisions, uplinks not started. */
  async prefill(): Promise<PacedRecordResult> {
    return combine(await Promise.all(this.children.map((child) => child.call({ type: 'prefill' }, 'recorded'))));
  }

  /** Resolves with the time until the slowest share had every uplink connected. */
  async connect(): Promise<number> {
    const replies = await Promise.all(this.children.map((child) => child.call({ type: 'connect' }, 'connected')));
    return Math.max(...replies.map((reply) => reply.connectMs));
  }

  /** Records every share's decisions, the aggregate `ratePerSec` split like the terminals. */
  async record(ratePerSec: number): Promise<PacedRecordResult> {
    const rates = ratePerSec === 0 ? this.children.map(() => 0) : proportional(ratePerSec, this.children.map(() => 1));
    return combine(await Promise.all(this.children.map((child, i) => child.call({ type: 'record', ratePerSec: rates[i]! }, 'recorded'))));
  }

  /** Rows in all outboxes; 0 once the broker has acknowledged everything. */
  async depth(): Promise<number> {
    const replies = await Promise.all(this.children.map((child) => child.call({ type: 'depth' }, 'depth')));
    return replies.reduce((n, reply) => n + reply.depth, 0);
  }

  /** Stops every share's uplinks; resolves with decisions recorded per terminal and rows left unsent. */
  async stop(): Promise<{ recorded: ReadonlyMap<string, number>; outboxLeft: number }> {
    const replies = await Promise.all(this.children.map((child) => child.call({ type: 'stop' }, 'stopped')));
    await Promise.all(this.children.map((child) => child.exited));
    return {
      recorded: new Map(replies.flatMap((reply) => reply.recorded)),
      outboxLeft: replies.reduce((n, reply) => n + reply.outboxLeft, 0),
    };
  }

  /** For a failed run. */
  async kill(): Promise<void> {
    await Promise.all(this.children.map((child) => child.kill()));
  }
}

/** The shares recorded side by side: from the first decision anywhere to the last. */
function combine(replies: readonly { readonly result: PacedRecordResult }[]): PacedRecordResult {
  // A share with no decisions to record (fewer decisions than processes) has no first one.
  const results = replies.map((reply) => reply.result).filter((result) => Number.isFinite(result.firstMs));
  return {
    firstMs: Math.min(...results.map((r) => r.firstMs)),
    lastMs: Math.max(...results.map((r) => r.lastMs)),
    durationMs: Math.max(...results.map((r) => r.durationMs)),
  };
}
