import type { Worker } from 'node:worker_threads';
import { startSourceWorker } from '../../protocol/sourceWorker.js';
import type { Logger } from 'pino';
import type { ExpectedFile } from './applyFile.js';
import { ListApplyError, type ApplyResult } from './applyResult.js';
import type { ApplyJob, ApplyReply, ApplyWorkerData } from './applyWorker.js';

export interface ListApplyRequest {
  /** A downloaded signed list file. */
  readonly file: string;
  /** What the manifest promised; checked before anything is written. */
  readonly expected?: ExpectedFile;
}

/** Installs downloaded list files off the scan thread (issue 4, "Terminal sync"). */
export interface ListApplier {
  /** Queued: one apply runs at a time. Rejects with a ListApplyError. */
  apply(request: ListApplyRequest): Promise<ApplyResult>;
  /** Stops the worker; an apply still running is abandoned (its transaction rolls back). */
  close(): Promise<void>;
}

export interface ListApplierOptions {
  readonly dataDir: string;
  /** PEM files of the list authority's public keys (config.keys.listPublicKeys). */
  readonly trustedKeyFiles: readonly string[];
  /** The scopes this terminal accepts (config.lists). */
  readonly scopes: readonly string[];
  /** config.storage.powerLossSafe */
  readonly powerLossSafe: boolean;
  readonly logger: Logger;
  /**
   * The worker is stopped after this long without work, so an idle terminal does not keep
   * a second V8 heap. Default 30 s.
   */
  readonly idleMs?: number;
  /** Called with each worker started (tests use it to stop one mid-apply). */
  readonly onWorker?: (worker: Worker) => void;
  /** Called with true when a worker starts, false when it is gone (idle, died or closed): the terminal's memory is highest in between. */
  readonly onRunning?: (running: boolean) => void;
}

const DEFAULT_IDLE_MS = 30_000;

/**
 * A snapshot apply walks a million entries; with V8's default young generation the
 * garbage of that walk, and the file's read buffers, wait long for a scavenge and the
 * terminal's memory grows by tens of MB. 2 MB keeps a 1M apply ~50 MB lower for a few
 * per cent of apply time (bench lists, docs/benchmarks.md; gateway/nodeFlags.ts does the
 * same for the main thread).
 */
const workerLimits = { maxYoungGenerationSizeMb: 2 };

interface Pending {
  readonly job: ApplyJob;
  readonly resolve: (result: ApplyResult) => void;
  readonly reject: (err: ListApplyError) => void;
}

interface Running {
  readonly worker: Worker;
  /** The last error the worker reported before exiting, for the operator's message. */
  error: Error | null;
}

class WorkerListApplier implements ListApplier {
  private readonly queue: Pending[] = [];
  private current: Pending | null = null;
  private running: Running | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: ListApplierOptions) {}

  apply(request: ListApplyRequest): Promise<ApplyResult> {
    if (this.closed) return Promise.reject(new ListApplyError('io', 'the list applier is closed'));
    return new Promise((resolve, reject) => {
      const job: ApplyJob = { id: this.nextId++, file: request.file, ...(request.expected ? { expected: request.expected } : {}) };
      this.queue.push({ job, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clearIdleTimer();
    const stopped = new ListApplyError('io', 'the list applier was closed before the list was applied');
    for (const pending of this.queue.splice(0)) pending.reject(stopped);
    this.current?.reject(stopped);
    this.current = null;
    const running = this.running;
    this.running = null;
    await running?.worker.terminate();
    if (running) this.options.onRunning?.(false);
  }

  private pump(): void {
    if (this.current || this.closed) return;
    const next = this.queue.shift();
    if (!next) {
      this.whenIdle();
      return;
    }
    this.clearIdleTimer();
    this.current = next;
    const { worker } = this.ensureWorker();
    // Held by the process while it works, so a script awaiting apply() does not exit under it.
    worker.ref();
    worker.postMessage(next.job);
  }

  private ensureWorker(): Running {
    if (this.running) return this.running;
    const { dataDir, trustedKeyFiles, scopes, powerLossSafe } = this.options;
    const workerData: ApplyWorkerData = { dataDir, trustedKeyFiles, scopes, powerLossSafe };
    const worker = startSourceWorker(import.meta.url, 'applyWorker', { workerData, resourceLimits: workerLimits });
    const running: Running = { worker, error: null };
    worker.on('message', (reply: ApplyReply) => this.settle(running, reply));
    worker.on('error', (err) => {
      running.error = err;
    });
    worker.on('exit', (exitCode) => this.exited(running, exitCode));
    this.running = running;
    this.options.logger.debug({ threadId: worker.threadId }, 'lists.apply-worker-started');
    this.options.onRunning?.(true);
    this.options.onWorker?.(worker);
    return running;
  }

  private settle(running: Running, reply: ApplyReply): void {
    const current = this.current;
    if (this.running !== running || !current || current.job.id !== reply.id) return;
    this.current = null;
    if (reply.ok) current.resolve(reply.result);
    else current.reject(new ListApplyError(reply.code, reply.message));
    this.pump();
  }

  /** A worker that dies takes its job with it; the next job gets a new worker. */
  private exited(running: Running, exitCode: number): void {
    if (this.running !== running) return; // stopped on purpose (idle or close)
    this.running = null;
    this.options.onRunning?.(false);
    const reason = running.error?.message ?? `exit code ${exitCode}`;
    this.options.logger.warn({ exitCode, err: running.error ?? undefined }, 'lists.apply-worker-exited');
    const current = this.current;
    this.current = null;
    current?.reject(new ListApplyError('io', `the list apply worker stopped before it answered (${reason}); the next sync checks the installed version again`));
    this.pump();
  }

  private whenIdle(): void {
    const running = this.running;
    if (!running || this.idleTimer) return;
    running.worker.unref();
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.running !== running || this.current) return;
      this.running = null;
      void running.worker.terminate().then(() => this.options.onRunning?.(false));
    }, this.options.idleMs ?? DEFAULT_IDLE_MS);
    this.idleTimer.unref();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}

/** The terminal's list applier: a worker thread, started on the first apply. */
export function createListApplier(options: ListApplierOptions): ListApplier {
  return new WorkerListApplier(options);
}
