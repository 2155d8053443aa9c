import { statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { openTerminalDb, terminalDbPath, type TerminalDb } from '../../gateway/terminalDb.js';
import { openWalBacklog, type WalBacklog } from '../../protocol/walBacklog.js';
import { backstopPages, startWalCheckpointer, type WalCheckpointer, type WalCheckpointerOptions } from '../../protocol/walCheckpointer.js';
import { captureLogger } from '../fakes/captureLogger.js';
import { useTempDir } from '../helpers/tempDir.js';
import { waitFor } from '../helpers/waitFor.js';

/** 1,500 commits of a page each: past SQLite's default automatic checkpoint (1,000 pages). */
function writePages(db: TerminalDb, count = 1_500): void {
  db.exec('CREATE TABLE IF NOT EXISTS filler (body BLOB)');
  const insert = db.prepare('INSERT INTO filler (body) VALUES (?)');
  for (let i = 0; i < count; i++) insert.run(Buffer.alloc(4000, i % 251));
}

/**
 * `commits` commits of `rowsPerCommit` one-page rows, 1 ms apart, as a busy writer makes them;
 * returns the largest the WAL file was after any of them.
 */
async function commitSteadily(db: TerminalDb, walBytes: () => number, commits: number, rowsPerCommit: number, afterCommit = () => {}): Promise<number> {
  db.exec('CREATE TABLE filler (body BLOB)');
  const insert = db.prepare('INSERT INTO filler (body) VALUES (?)');
  const commit = db.transaction((from: number) => {
    for (let i = from; i < from + rowsPerCommit; i++) insert.run(Buffer.alloc(4000, i % 251));
  });
  let largestWal = 0;
  for (let c = 0; c < commits; c++) {
    commit.immediate(c * rowsPerCommit);
    largestWal = Math.max(largestWal, walBytes());
    afterCommit();
    await sleep(1);
  }
  return largestWal;
}

describe("terminal.db's checkpoints run off the scan thread", () => {
  const tempDir = useTempDir();
  const open: Array<{ db: TerminalDb; checkpointer: WalCheckpointer; walBacklog: WalBacklog | undefined }> = [];
  afterEach(async () => {
    for (const { db, checkpointer, walBacklog } of open.splice(0)) {
      await checkpointer.close();
      walBacklog?.close();
      db.close();
    }
  });

  function setUp(intervalMs: number, more: Pick<WalCheckpointerOptions, 'backstopPages' | 'restartPages' | 'onWorker'> = {}) {
    const dataDir = tempDir();
    const db = openTerminalDb(dataDir);
    const log = captureLogger();
    // As the central store gives it: the restart then waits for a pass that leaves no frame.
    const walBacklog = more.restartPages ? openWalBacklog(terminalDbPath(dataDir)) : undefined;
    // The first worker's start, for a test that measures the WAL from there: still loading
    // SQLite on a loaded machine (hundreds of ms), a worker checkpoints nothing.
    let workerReady!: () => void;
    const ready = new Promise<void>((resolve) => (workerReady = resolve));
    const onWorker = (worker: Worker) => {
      worker.on('message', (message: { type: string }) => message.type === 'ready' && workerReady());
      more.onWorker?.(worker);
    };
    const checkpointer = startWalCheckpointer(db, { file: terminalDbPath(dataDir), powerLossSafe: false, logger: log.logger, intervalMs, ...more, onWorker, walBacklog });
    open.push({ db, checkpointer, walBacklog });
    const dbBytes = () => statSync(terminalDbPath(dataDir)).size;
    const walBytes = () => statSync(`${terminalDbPath(dataDir)}-wal`).size;
    return { db, dbBytes, walBytes, checkpointer, log, ready };
  }

  it('a commit on the terminal\'s connection never copies the WAL into the database itself', () => {
    const { db, dbBytes } = setUp(3_600_000);
    const before = dbBytes();
    writePages(db);
    // Left to SQLite's default, the commit that crossed 1,000 pages would have checkpointed
    // and the file would hold ~6 MB now.
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(backstopPages);
    expect(dbBytes()).toBe(before);
  });

  it('the worker checkpoints on its own, and the terminal keeps writing meanwhile', async () => {
    const { db, dbBytes } = setUp(50);
    writePages(db);
    await waitFor(() => dbBytes() > 1_500 * 4000, 20_000, 'the worker to copy the WAL into terminal.db');
    writePages(db, 10);
    expect(db.prepare('SELECT count(*) FROM filler').pluck().get()).toBe(1_510);
  });

  it('paused while the list apply worker runs, it checkpoints again once resumed', async () => {
    const { db, dbBytes, checkpointer } = setUp(50);
    await checkpointer.pause();
    const before = dbBytes();
    writePages(db);
    expect(dbBytes()).toBe(before);
    checkpointer.resume();
    await waitFor(() => dbBytes() > 1_500 * 4000, 20_000, 'the resumed worker to copy the WAL into terminal.db');
  });

  it('a worker that ends on its own is started again and checkpoints again, with a warning', async () => {
    const workers: Worker[] = [];
    const { db, dbBytes, log } = setUp(50, { onWorker: (worker) => workers.push(worker) });
    await waitFor(() => workers.length === 1, 10_000, 'the first worker');
    await workers[0]!.terminate();
    await waitFor(() => workers.length === 2, 10_000, 'a second worker after the first ended');
    const before = dbBytes();
    writePages(db);
    await waitFor(() => dbBytes() > before + 1_000 * 4000, 20_000, 'the second worker to copy the WAL into terminal.db');
    expect(log.messages('storage.checkpointer-exited')).toMatchObject([{ level: 40, exitCode: expect.any(Number), restartInMs: 1_000 }]);
  });

  it('a worker stopped on purpose is not started again', async () => {
    const workers: Worker[] = [];
    const { checkpointer, log } = setUp(50, { onWorker: (worker) => workers.push(worker) });
    await checkpointer.pause();
    checkpointer.resume();
    await checkpointer.close();
    expect(workers).toHaveLength(2);
    expect(log.messages('storage.checkpointer-exited')).toEqual([]);
  });

  it('closed before its worker has loaded SQLite, ends the worker there; once it runs, lets it close its connection', async () => {
    type Seen = { said: string[]; exitCode?: number };
    const watch = (seen: Seen) => (worker: Worker) => {
      worker.on('message', (message: { type: string }) => seen.said.push(message.type));
      worker.once('exit', (code) => (seen.exitCode = code));
    };
    // Closed in the tick it started in: the worker cannot have said it is ready. Asked to
    // close instead, it would first load SQLite, open the file and say so.
    const young: Seen = { said: [] };
    await setUp(50, { onWorker: watch(young) }).checkpointer.close();
    expect(young).toEqual({ said: [], exitCode: 0 });
    const running: Seen = { said: [] };
    const { db, dbBytes, checkpointer, log } = setUp(50, { onWorker: watch(running) });
    writePages(db);
    await waitFor(() => dbBytes() > 1_000 * 4000, 20_000, 'the worker to checkpoint');
    await checkpointer.close();
    expect(running.said).toContain('checkpointed');
    expect(running.exitCode).toBe(0);
    expect(log.messages('storage.checkpointer-exited')).toEqual([]);
  });

  it('with restartPages, a writer that barely pauses keeps a short WAL without checkpointing itself', async () => {
    // The central's case: a PASSIVE pass takes longer than the pauses between commits, so it
    // never finishes with the last commit copied, the WAL never starts again on its own, and
    // without the restart its file would grow by every commit up to the backstop.
    const { db, walBytes, ready } = setUp(20, { backstopPages: 100_000, restartPages: 200 });
    await ready;
    const commits = 300;
    const largestWal = await commitSteadily(db, walBytes, commits, 20);
    // 300 commits of 20 rows are over 6,000 pages (24 MB) of frames; restarted from 200 pages
    // on, the file holds a fraction of that.
    expect(largestWal).toBeLessThan(2_000 * 4096);
    expect(db.prepare('SELECT count(*) FROM filler').pluck().get()).toBe(commits * 20);
  });

  it('with restartPages, the committing connection never finds the write lock taken by the restart', async () => {
    // The restart runs between the committing thread's own transactions: with no busy
    // timeout at all, none of its commits may meet SQLITE_BUSY. A restart on the worker's
    // connection held the write lock while it copied and synced, and a commit arriving then
    // waited in SQLite's busy steps (or, as here, failed).
    const { db, walBytes, ready } = setUp(5, { backstopPages: 100_000, restartPages: 100 });
    await ready;
    db.pragma('busy_timeout = 0');
    const commits = 600;
    const largestWal = await commitSteadily(db, walBytes, commits, 10);
    expect(db.prepare('SELECT count(*) FROM filler').pluck().get()).toBe(commits * 10);
    // Restarted all along: 6,000 pages of frames in all, never more than a fraction in the file.
    expect(largestWal).toBeLessThan(2_000 * 4096);
  });

  it('with restartPages, a transaction left open across awaits is neither broken nor checkpointed inside', async () => {
    // The central's registry keeps a transaction open while it awaits its own steps: a restart
    // due meanwhile waits for a later pass instead of failing inside it.
    const { db, log } = setUp(5, { backstopPages: 100_000, restartPages: 100 });
    db.exec('CREATE TABLE filler (body BLOB)');
    const insert = db.prepare('INSERT INTO filler (body) VALUES (?)');
    const framesInWal = () => (db.pragma('wal_checkpoint(NOOP)') as { log: number }[])[0]!.log;
    for (let i = 0; i < 400; i++) insert.run(Buffer.alloc(4000, i % 251));
    db.exec('BEGIN IMMEDIATE');
    for (let step = 0; step < 20; step++) {
      insert.run(Buffer.alloc(4000, step));
      await sleep(10);
    }
    db.exec('COMMIT');
    expect(framesInWal()).toBeGreaterThan(400);
    // Once the transaction is over the restart goes through: the WAL starts again from its first frame.
    let after = 0;
    await waitFor(async () => {
      insert.run(Buffer.alloc(4000, after++ % 251));
      await sleep(5);
      return framesInWal() < 100;
    }, 10_000, 'the WAL to start again after the transaction');
    expect(log.messages('storage.checkpoint-failed')).toEqual([]);
    expect(db.prepare('SELECT count(*) FROM filler').pluck().get()).toBe(400 + 20 + after);
  });

  it('with restartPages, the restart waits for another pass while many frames are left to copy, and says when one is pending', async () => {
    // What the RESTART copies and syncs holding the write lock is what was committed after the
    // worker's last pass: the committing thread runs it with no such frame, or after eight more
    // passes, however heavily it writes. Here every commit adds over 150 frames, and one lands
    // during most of the worker's passes.
    const { db, walBytes, checkpointer, log } = setUp(5, { backstopPages: 100_000, restartPages: 400 });
    let sawPending = false;
    await commitSteadily(db, walBytes, 100, 150, () => {
      sawPending ||= checkpointer.restartPending();
    });
    expect(sawPending).toBe(true);
    await waitFor(() => !checkpointer.restartPending(), 10_000, 'the pending restart to run once the writer stopped');
    const restarts = log.messages('storage.wal-restarted');
    expect(restarts.length).toBeGreaterThan(0);
    for (const restart of restarts) {
      if (restart.deferrals !== 8) expect(restart.framesLeft).toBe(0);
    }
    expect(log.messages('storage.checkpoint-failed')).toEqual([]);
    expect(db.prepare('SELECT count(*) FROM filler').pluck().get()).toBe(100 * 150);
  });
});
