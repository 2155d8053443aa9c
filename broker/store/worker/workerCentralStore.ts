import type { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import type { Logger } from '../../../protocol/logger.js';
import { startSourceWorker } from '../../../protocol/sourceWorker.js';
import type { ScanEvent } from '../../../protocol/event.js';
import type { CentralStore, InsertResult } from '../centralStore.js';
import { StoreError, type StoreErrorCode } from '../storeError.js';
import { forwardedMethods, receivedInsertResult, type ForwardedMethod, type SentError, type SentInsertResult, type StoreCall, type StoreReply, type StoreWorkerData } from './storeCalls.js';

export interface WorkerCentralStoreOptions {
  /** The database file, normally `central.db` in the central's dataDir. */
  readonly file: string;
  readonly logger: Logger;
  /** See CentralDbOptions in sqliteSchema.ts. Default NORMAL. */
  readonly synchronous?: 'NORMAL' | 'FULL';
  /** Called with the thread once started: tests stop it to see what a crash does. */
  readonly onWorker?: (worker: Worker) => void;
}

interface PendingCall {
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
}

/**
 * The SQLite store in a worker thread (DESIGN.md "Storage": store calls never run on the
 * broker's event loop). Every CentralStore call is posted to storeWorker.ts and answered
 * there by the one SqliteCentralStore, in the order sent; a 2,000-row commit or a month's
 * stats then costs the broker's thread a message, not the transaction.
 *
 * Lifecycle as SqliteCentralStore: migrate() starts the thread and opens the file;
 * close() may be called at any time, twice. A thread that dies fails every call in flight
 * and every later one with StoreError `store-closed`: the caller's commit fails as a full
 * disk would, and nothing is acknowledged that was not stored.
 */
export class WorkerCentralStore {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, PendingCall>();
  private nextId = 1;
  private closed = false;
  /** Why the thread stopped on its own, for every call after. */
  private died: string | null = null;
  private readonly logger: Logger;
  readonly lost: Promise<never>;
  private markLost: (err: StoreError) => void = () => undefined;

  constructor(private readonly options: WorkerCentralStoreOptions) {
    this.logger = options.logger.child({ component: 'store' });
    this.lost = new Promise<never>((_resolve, reject) => (this.markLost = reject));
    // Nobody need be listening: a one-shot caller learns of it from its call failing.
    this.lost.catch(() => undefined);
  }

  async migrate(): Promise<void> {
    if (this.closed) throw new StoreError('store-closed', 'the central store was closed');
    if (this.worker !== null) return;
    const workerData: StoreWorkerData = {
      file: this.options.file,
      synchronous: this.options.synchronous ?? 'NORMAL',
      logLevel: this.options.logger.level,
    };
    const worker = startSourceWorker(import.meta.url, 'storeWorker', { workerData });
    this.worker = worker;
    this.options.onWorker?.(worker);
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (message: StoreReply) => {
        if (message.kind === 'opened') {
          if (message.ok) resolve();
          else reject(receivedError(message.error));
        } else this.received(message);
      });
      worker.on('error', (err) => {
        this.logger.error({ err }, 'store.worker-failed');
        reject(err);
      });
      worker.on('exit', (exitCode) => {
        this.exited(worker, exitCode);
        reject(new StoreError('store-closed', `the store's worker thread stopped before the store opened (exit code ${exitCode})`));
      });
    }).catch(async (err: unknown) => {
      await this.stop();
      throw err;
    });
    this.idle();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.worker === null) return;
    if (this.died === null) {
      await this.call('close', []).catch((err: unknown) => this.logger.warn({ err }, 'store.close-failed'));
    }
    await this.stop();
  }

  /** Posts one call; rejects with store-closed when the thread is gone. */
  call(method: ForwardedMethod | 'close', args: readonly unknown[]): Promise<unknown> {
    const worker = this.worker;
    if (worker === null || this.died !== null || (this.closed && method !== 'close')) {
      return Promise.reject(new StoreError('store-closed', this.died ?? (this.closed ? 'the central store was closed' : 'the central store is not open: call migrate() first')));
    }
    const id = this.nextId++;
    const call: StoreCall = { id, method, args };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Held by the process while a call is out, so a script awaiting one does not exit under it.
      worker.ref();
      worker.postMessage(call);
    });
  }

  private received(message: StoreReply): void {
    if (message.kind === 'log') {
      this.relayLog(message.line);
      return;
    }
    if (message.kind !== 'reply') return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    if (message.ok) pending.resolve(message.value);
    else pending.reject(receivedError(message.error));
    if (this.pending.size === 0) this.idle();
  }

  private relayLog(line: string): void {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const { level, time: _time, msg, ...fields } = record;
    const label = typeof level === 'number' ? pino.levels.labels[level] : undefined;
    const write = label === undefined ? undefined : (this.options.logger as unknown as Record<string, unknown>)[label];
    if (typeof write !== 'function') return;
    (write as (obj: object, msg?: string) => void).call(this.options.logger, fields, typeof msg === 'string' ? msg : undefined);
  }

  private exited(worker: Worker, exitCode: number): void {
    if (this.worker !== worker) return;
    if (!this.closed) {
      this.died = `the store's worker thread stopped (exit code ${exitCode}); restart the central`;
      this.logger.error({ exitCode, inFlight: this.pending.size }, 'store.worker-exited');
    }
    const gone = new StoreError('store-closed', this.died ?? 'the central store was closed');
    if (this.died !== null) this.markLost(gone);
    for (const pending of this.pending.values()) pending.reject(gone);
    this.pending.clear();
  }

  private idle(): void {
    this.worker?.unref();
  }

  private async stop(): Promise<void> {
    const worker = this.worker;
    if (worker === null) return;
    this.closed = true;
    await worker.terminate();
    this.worker = null;
  }
}

for (const method of forwardedMethods) {
  if (method === 'insertEvents') continue;
  Object.defineProperty(WorkerCentralStore.prototype, method, {
    value(this: WorkerCentralStore, ...args: unknown[]) {
      return this.call(method, args);
    },
    writable: true,
    configurable: true,
  });
}

Object.defineProperty(WorkerCentralStore.prototype, 'insertEvents', {
  async value(this: WorkerCentralStore, events: readonly ScanEvent[], receivedAtMs: number): Promise<InsertResult> {
    return receivedInsertResult(events, (await this.call('insertEvents', [events, receivedAtMs])) as SentInsertResult);
  },
  writable: true,
  configurable: true,
});

// The loop and insertEvents above give the class every forwarded method; storeCalls.ts checks the list is whole.
export interface WorkerCentralStore extends Pick<CentralStore, ForwardedMethod> {}

function receivedError(error: SentError): Error {
  if (error.name === 'StoreError' && error.code !== undefined) return new StoreError(error.code as StoreErrorCode, error.message);
  const err = new Error(error.message) as Error & { code?: string };
  err.name = error.name;
  if (error.code !== undefined) err.code = error.code;
  return err;
}

/** Compile-time: the worker store is a whole CentralStore. */
const asCentralStore = (store: WorkerCentralStore): CentralStore => store;
void asCentralStore;
