import type { ScanEvent } from '../../../protocol/event.js';
import type { CentralStore, InsertResult } from '../centralStore.js';
import type { StoreErrorCode } from '../storeError.js';

/**
 * The messages between the central's thread and the store's worker thread
 * (workerCentralStore.ts, storeWorker.ts): a call by method name, answered once.
 */

/** Every CentralStore method a caller may send across; migrate and close are the lifecycle. */
export const forwardedMethods = [
  'createCheckpoint',
  'getCheckpoint',
  'listCheckpoints',
  'updateCheckpoint',
  'retireCheckpoint',
  'addTerminal',
  'getTerminalCredentials',
  'listTerminalCredentials',
  'removeTerminal',
  'setTerminalSecret',
  'createEnrollmentToken',
  'redeemEnrollmentToken',
  'insertEvents',
  'gaps',
  'recordStatus',
  'recordTelemetry',
  'recordConnection',
  'recordFleet',
  'checkpointStats',
  'lastDayCounts',
  'checkpointHistogram',
  'searchEvents',
  'fleet',
  'membersByRefs',
  'insideNow',
  'takeOut',
  'deleteEventsBefore',
  'queueCommand',
  'getCommand',
  'openCommands',
  'commandSent',
  'acknowledgeCommand',
] as const satisfies ReadonlyArray<keyof CentralStore>;

export type ForwardedMethod = (typeof forwardedMethods)[number];

/**
 * A method added to CentralStore and not listed above fails the type-check here, so the
 * worker store can never lack one the interface promises.
 */
type Unforwarded = Exclude<keyof CentralStore, ForwardedMethod | 'migrate' | 'close' | 'lost'>;
const everyMethodForwarded: [Unforwarded] extends [never] ? true : Unforwarded = true;
void everyMethodForwarded;

export interface StoreCall {
  readonly id: number;
  readonly method: ForwardedMethod | 'close';
  readonly args: readonly unknown[];
}

/** An error as it crosses the thread boundary; a StoreError keeps its code. */
export interface SentError {
  readonly name: string;
  readonly message: string;
  readonly code?: StoreErrorCode | string;
}

export type StoreReply =
  | { readonly kind: 'reply'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly kind: 'reply'; readonly id: number; readonly ok: false; readonly error: SentError }
  /** The store opened (or failed to): the answer to migrate(), sent once at start. */
  | { readonly kind: 'opened'; readonly ok: true }
  | { readonly kind: 'opened'; readonly ok: false; readonly error: SentError }
  /** One pino line written in the worker, relayed to the central's own logger. */
  | { readonly kind: 'log'; readonly line: string };

export interface StoreWorkerData {
  readonly file: string;
  readonly synchronous: 'NORMAL' | 'FULL';
  readonly logLevel: string;
}

export function sendableError(err: unknown): SentError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(err) };
}

/**
 * `insertEvents`'s answer as it crosses back: the stored events are some of those the
 * central just sent, in order, so their positions do instead of a copy of each (under load
 * that copy was a second structured clone of every event, and garbage on the broker's
 * thread). `storedAt` null means all of them, the usual case.
 */
export interface SentInsertResult {
  readonly inserted: number;
  readonly duplicates: number;
  readonly storedAt: readonly number[] | null;
}

export function sendableInsertResult(events: readonly ScanEvent[], result: InsertResult): SentInsertResult {
  const { inserted, duplicates, stored } = result;
  if (stored.length === events.length) return { inserted, duplicates, storedAt: null };
  const storedAt: number[] = [];
  // `stored` is a subsequence of `events` (the same objects): one pass finds the positions.
  for (let i = 0, j = 0; i < events.length && j < stored.length; i++) {
    if (events[i] === stored[j]) {
      storedAt.push(i);
      j++;
    }
  }
  return { inserted, duplicates, storedAt };
}

export function receivedInsertResult(events: readonly ScanEvent[], sent: SentInsertResult): InsertResult {
  const stored = sent.storedAt === null ? events : sent.storedAt.map((i) => events[i]!);
  return { inserted: sent.inserted, duplicates: sent.duplicates, stored };
}
