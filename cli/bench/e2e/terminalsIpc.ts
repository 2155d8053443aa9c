import type { PacedRecordResult } from './load.js';
import type { BenchTerminal } from './target.js';

/**
 * The conversation between `bench e2e` and the `bench e2e-terminals` processes that run its
 * simulated terminals (Node's IPC channel, JSON). One simulated terminal costs about 45 µs
 * of CPU per decision in its outbox commit alone, plus its uplink's work: measured, one
 * process at 90 % of a core recorded ~22k decisions/s while the central idled at 40 %. So
 * the terminals run in child processes of their own, a share each, paced together.
 *
 * Every request carries an id; the child answers each with the same id, in order.
 */

/** Written to a file (it holds the terminals' passwords) and named on the child's command line. */
export interface TerminalsSpec {
  /** Where the terminals' SQLite files go. */
  readonly dir: string;
  readonly terminals: readonly BenchTerminal[];
  /** This process's share of the decisions. */
  readonly events: number;
  readonly burst: number;
}

export type TerminalsRequest =
  /** Record the whole share as fast as possible, uplinks not started (`--backlog`). */
  | { readonly id: number; readonly type: 'prefill' }
  /** Start the uplinks; answered once all are connected. */
  | { readonly id: number; readonly type: 'connect' }
  /** Record the share at this rate (this process's part of the aggregate rate). */
  | { readonly id: number; readonly type: 'record'; readonly ratePerSec: number }
  /** Rows still in the outboxes (0 = everything acknowledged). */
  | { readonly id: number; readonly type: 'depth' }
  /** Stop the uplinks, close the files, report; the process then exits. */
  | { readonly id: number; readonly type: 'stop' };

export type TerminalsReply =
  | { readonly id: number; readonly type: 'recorded'; readonly result: PacedRecordResult }
  | { readonly id: number; readonly type: 'connected'; readonly connectMs: number }
  | { readonly id: number; readonly type: 'depth'; readonly depth: number }
  | { readonly id: number; readonly type: 'stopped'; readonly recorded: ReadonlyArray<readonly [string, number]>; readonly outboxLeft: number }
  | { readonly id: number; readonly type: 'failed'; readonly message: string };

/** Sent once, unasked, when the files are open and the process takes requests. */
export interface TerminalsReady {
  readonly type: 'ready';
}
