import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type Database from 'better-sqlite3';
import type { WalBacklog } from './walBacklog.js';

/**
 * A SQLite database's WAL checkpoints, off the thread that commits: terminal.db's scan
 * thread, and the central store's (broker/store/sqliteStore.ts), whose ingestion commits
 * would otherwise each pay for ~1,000 random page writes and an fsync every ~20 commits.
 *
 * SQLite checkpoints inside the commit that takes the WAL past `wal_autocheckpoint` pages
 * (1,000 by default). On a terminal that commit is a scan's outbox insert, and a checkpoint
 * copies the WAL into the database and syncs both files: bench lists measured 4–33 ms for
 * that one scan, against ~0.3 ms for the others, while a list apply or any other writer
 * kept the disk busy (docs/benchmarks.md, "What a scan waited on"); an SD card is slower
 * still. Here a small worker thread with a connection of its own checkpoints every few
 * seconds instead. PASSIVE: it never waits for, nor blocks, the scan thread's writes. The
 * scan thread's connection keeps a far higher threshold as a backstop, so a stopped or
 * lagging worker can let the WAL grow, never without bound.
 */
export interface WalCheckpointer {
  /**
   * Stops the worker for a while (its isolate costs ~9 MB): while the list apply worker
   * runs, the terminal's memory is at its highest, and the few thousand pages scans add
   * meanwhile stay far under the backstop.
   */
  pause(): Promise<void>;
  /** Starts the worker again after pause(). */
  resume(): void;
  /** Stops the worker for good; the database connection it was given is left open. */
  close(): Promise<void>;
  /**
   * True from the worker's first catch-up pass before a RESTART until the RESTART has run
   * (never without restartPages). A bulk writer that can wait, retention, waits: every frame
   * it adds meanwhile is one more the RESTART copies and syncs while it holds the write lock.
   */
  restartPending(): boolean;
}

export interface WalCheckpointerOptions {
  /** The database file (terminal.db). */
  readonly file: string;
  /** synchronous=FULL for the worker's connection too (config.storage.powerLossSafe). */
  readonly powerLossSafe: boolean;
  readonly logger: Logger;
  /** How often the worker checkpoints. Default 2 s: ~10 scans a second add ~50 pages a second. */
  readonly intervalMs?: number;
  /** The committing connection's own threshold, pages. Default backstopPages. */
  readonly backstopPages?: number;
  /**
   * After a pass that leaves the WAL at least this long, pages, it is started again (a RESTART
   * checkpoint, run on the committing thread when the worker asks). Default: never, which suits a writer that pauses, as a terminal's scans
   * do. Why a writer that commits every few milliseconds needs it: see the worker's script below.
   */
  readonly restartPages?: number;
  /**
   * The WAL's frames not yet copied back, read before each RESTART (the caller's reader of the
   * `-shm` file, which it keeps and closes): with it, the RESTART waits for a pass that leaves
   * none. Without it, the RESTART runs as soon as the worker asks.
   */
  readonly walBacklog?: Pick<WalBacklog, 'pages'>;
  /** Called with each thread it starts: tests end one to see it come back. */
  readonly onWorker?: (worker: Worker) => void;
}

/** The scan thread's own threshold, pages: ~40 MB of WAL, reached only if the worker is not doing its job. */
export const backstopPages = 10_000;
const DEFAULT_INTERVAL_MS = 2_000;
/**
 * A worker that ends on its own (out of memory, a file it could not open) is started again
 * after 1 s, doubling up to a minute while it keeps ending before a pass succeeds. Left dead,
 * every checkpoint fell to the committing connection's backstop: the central's 1 M-event
 * store bench then had ~210 ms gaps in ingestion, with one warning to show for it.
 */
const firstRestartDelayMs = 1_000;
const maxRestartDelayMs = 60_000;

/**
 * Why a restart: SQLite starts the WAL again from its first frame only when a write begins
 * with every frame already copied back. A PASSIVE pass copies the frames there were when it
 * began, then syncs the file (tens of ms here); a writer committing every 10 ms has always
 * added frames by then, so the WAL never starts again, grows to the committing connection's
 * backstop, and that connection checkpoints inside a commit: the frames left plus an fsync of
 * central.db, 50–90 ms of a 1,000 events/s ingestion loop every ~2 s, and inside retention
 * batches more often (docs/benchmarks.md, "The WAL that never started again").
 *
 * A RESTART holds the write lock while it copies and syncs what is left (a sync costs ~20 µs
 * a page written here), so PASSIVE passes come first, each copying what was committed during
 * the one before, until one finds fewer than `restartTailFrames` new frames (a pass copies
 * several times faster than even retention writes, so two or three do).
 *
 * The RESTART itself runs on the committing thread, between two of its transactions, not on
 * the worker: a writer waiting for a lock another connection holds sleeps in SQLite's fixed
 * busy steps (1, 2, 5, 10, 15, 20, 25 ms…) and wakes up to one step after the lock is free,
 * and at 10 M events the insert loop's longest gaps beside retention were those sleeps behind
 * the worker's RESTART (docs/benchmarks.md, "What the commits waited on beside retention").
 * On its own thread the RESTART simply runs between two commits. The worker sends
 * `restart-due` and passes no more until the committing thread answers `restarted`, so the two
 * connections never contend for the checkpoint lock; the committing thread does not wait for
 * any other connection either (busy_timeout 0 for the call): a reader elsewhere that keeps the
 * WAL in use makes the RESTART end as a plain checkpoint, and the next one restarts it.
 */
const restartTailFrames = 256;
const maxCatchUpPasses = 5;
/**
 * The committing thread runs the RESTART only once every frame is copied back; otherwise the
 * worker passes again first (at most `maxRestartDeferrals` times, then it restarts anyway).
 * What the RESTART leaves to copy is what was committed since the worker's last pass, and it
 * copies it and syncs both files holding the write lock: with ~1,000 frames left (one
 * retention batch) 15–34 ms of the committing thread at 1 M events, and even with a few
 * frames the database's sync took 30–40 ms while the disk was busy. With none left it copies
 * and syncs nothing: 0.1 ms (docs/benchmarks.md, "The RESTART's tail"). A pass copies what one
 * ingestion commit added in a few ms, so one to three passes get there.
 */
const maxRestartDeferrals = 8;

/**
 * Plain CommonJS with better-sqlite3 the only module, handed over as a resolved URL: no
 * TypeScript loader, nothing of the terminal's own code, the smallest isolate (~4 MB).
 */
const script = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const Database = (await import(workerData.sqlite)).default;
  const db = new Database(workerData.file);
  db.pragma('synchronous = ' + (workerData.powerLossSafe ? 'FULL' : 'NORMAL'));
  let restartAsked = false;
  const askForRestart = (result) => {
    restartAsked = true;
    parentPort.postMessage({ type: 'restart-due', ...result });
  };
  const checkpoint = () => {
    if (restartAsked) return;
    try {
      let [result] = db.pragma('wal_checkpoint(PASSIVE)');
      if (workerData.restartPages > 0 && result.log >= workerData.restartPages) {
        parentPort.postMessage({ type: 'catching-up' });
        for (let pass = 0; pass < workerData.maxCatchUpPasses; pass++) {
          const framesBefore = result.log;
          [result] = db.pragma('wal_checkpoint(PASSIVE)');
          if (result.log - framesBefore < workerData.restartTailFrames) break;
        }
        askForRestart(result);
        return;
      }
      parentPort.postMessage({ type: 'checkpointed', ...result });
    } catch (err) {
      parentPort.postMessage({ type: 'failed', message: String(err && err.message) });
    }
  };
  const timer = setInterval(checkpoint, workerData.intervalMs);
  parentPort.on('message', (message) => {
    if (message === 'restarted') restartAsked = false;
    if (message === 'pass-again') {
      // A failed pass still asks: the committing thread decides, and may restart anyway.
      let result = {};
      try {
        [result] = db.pragma('wal_checkpoint(PASSIVE)');
      } catch (err) {
        parentPort.postMessage({ type: 'failed', message: String(err && err.message) });
      }
      askForRestart(result);
    }
    if (message !== 'close') return;
    clearInterval(timer);
    db.close();
    parentPort.close();
  });
  parentPort.postMessage({ type: 'ready' });
})().catch((err) => parentPort.postMessage({ type: 'failed', message: String(err && err.message) }));
`;

interface CheckpointMessage {
  readonly type: 'ready' | 'checkpointed' | 'catching-up' | 'restart-due' | 'failed';
  readonly message?: string;
  readonly busy?: number;
  readonly log?: number;
  readonly checkpointed?: number;
}

/**
 * The RESTART the worker found due, on the committing connection (see restartTailFrames),
 * between two of its transactions; what it failed with, if it did.
 */
function restartWal(db: Database.Database): string | null {
  const busyTimeoutMs = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma('busy_timeout = 0');
  try {
    db.pragma('wal_checkpoint(RESTART)');
    return null;
  } catch (err) {
    return String((err as Error).message);
  } finally {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  }
}

/**
 * Takes `db`'s checkpoints over: its own automatic checkpoint moves up to the backstop, and
 * a worker thread checkpoints on a timer. The worker does not keep the process alive.
 */
export function startWalCheckpointer(db: Database.Database, options: WalCheckpointerOptions): WalCheckpointer {
  db.pragma(`wal_autocheckpoint = ${options.backstopPages ?? backstopPages}`);
  let running: { worker: Worker; exited: Promise<void>; ready: boolean } | null = null;
  let stopping: Promise<void> = Promise.resolve();
  let closed = false;
  let failures = 0;
  /** Workers that ended on their own since the last pass that succeeded. */
  let exits = 0;
  let restartTimer: NodeJS.Timeout | null = null;
  let restartPending = false;
  let restartDeferrals = 0;
  // No RESTART is on its way: it ran, or the worker that asked for it is gone.
  const clearRestart = (): void => {
    restartPending = false;
    restartDeferrals = 0;
  };

  const start = (): void => {
    if (restartTimer) clearTimeout(restartTimer);
    restartTimer = null;
    if (running || closed) return;
    const worker = new Worker(script, {
      eval: true,
      workerData: { file: options.file, powerLossSafe: options.powerLossSafe, intervalMs: options.intervalMs ?? DEFAULT_INTERVAL_MS, restartPages: options.restartPages ?? 0, restartTailFrames, maxCatchUpPasses, sqlite: import.meta.resolve('better-sqlite3') },
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 },
    });
    worker.unref();
    options.onWorker?.(worker);
    // A busy or failing checkpoint, the worker's or the restart here, is retried on the next
    // tick; say so once, not every tick.
    const outcome = (failure: string | null): void => {
      if (failure === null) failures = 0;
      else if (failures++ === 0) options.logger.warn({ reason: failure }, 'storage.checkpoint-failed');
    };
    worker.on('message', (message: CheckpointMessage) => {
      if (message.type === 'ready') {
        if (running?.worker === worker) running.ready = true;
      } else if (message.type === 'failed') {
        // A catch-up that failed half-way asks for no RESTART: retention must not wait for one.
        restartPending = false;
        outcome(message.message ?? 'unknown');
      } else if (message.type === 'checkpointed') {
        exits = 0;
        outcome(null);
      } else if (message.type === 'catching-up') {
        restartPending = true;
      } else if (message.type === 'restart-due') {
        if (running?.worker !== worker) return;
        const framesLeft = options.walBacklog?.pages() ?? 0;
        if (framesLeft > 0 && restartDeferrals < maxRestartDeferrals) {
          restartDeferrals++;
          worker.postMessage('pass-again');
          return;
        }
        // A registry transaction left open across an await: the worker asks again after its next pass.
        if (db.open && !db.inTransaction) {
          const started = performance.now();
          const failure = restartWal(db);
          const ms = Math.round((performance.now() - started) * 100) / 100;
          options.logger.debug({ framesLeft, deferrals: restartDeferrals, ms }, 'storage.wal-restarted');
          outcome(failure);
        }
        clearRestart();
        worker.postMessage('restarted');
      }
    });
    worker.on('error', (err) => options.logger.warn({ err }, 'storage.checkpointer-stopped'));
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    running = { worker, exited, ready: false };
    worker.once('exit', (exitCode) => {
      if (running?.worker !== worker) return;
      running = null;
      clearRestart();
      const delayMs = Math.min(maxRestartDelayMs, firstRestartDelayMs * 2 ** Math.min(exits++, 16));
      options.logger.warn({ exitCode, restartInMs: delayMs }, 'storage.checkpointer-exited');
      restartTimer = setTimeout(start, delayMs);
      restartTimer.unref();
    });
  };

  const stop = (): Promise<void> => {
    if (restartTimer) clearTimeout(restartTimer);
    restartTimer = null;
    const current = running;
    running = null;
    clearRestart();
    if (!current) return stopping;
    // Held while it stops: a shutdown awaiting it must not find an empty event loop (Node
    // would end the process there, exit code 13, before the rest of the shutdown).
    current.worker.ref();
    if (current.ready) {
      current.worker.postMessage('close');
      // A worker stuck in a checkpoint is not worth waiting for.
      const timer = setTimeout(() => void current.worker.terminate(), 5_000);
      timer.unref();
      stopping = current.exited.finally(() => clearTimeout(timer));
    } else {
      // Not ready yet, it has run no checkpoint, and a connection it may have opened closes as
      // its thread ends. Sent 'close', it would first finish loading SQLite: ~60 ms on every
      // close of a young store (a short test, a command that opens the store and goes).
      void current.worker.terminate();
      stopping = current.exited;
    }
    return stopping;
  };

  start();
  return {
    pause: stop,
    resume: start,
    close() {
      closed = true;
      return stop();
    },
    restartPending: () => restartPending,
  };
}
