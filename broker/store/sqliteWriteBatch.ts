import type { CentralDb } from './sqliteSchema.js';

/**
 * Small writes that arrive one by one from many connections (the fleet view: a status, a
 * connect, a telemetry per terminal), committed together: those queued in one turn of the
 * event loop run in one transaction at the end of it (`setImmediate`), and each caller's
 * promise settles when that transaction has committed.
 *
 * Why: a restarted central takes thousands of terminals back within seconds, each login
 * writing a connect and a status. One transaction each was ~0.3–0.6 ms of the event loop
 * per write on a loaded machine (the commit's WAL write), the largest store cost left when
 * 3,000 terminals logged back in (docs/benchmarks.md, "Reconnect storm"). In one transaction
 * the commit is paid once per turn.
 *
 * Only for writes whose order between turns does not matter or is settled by the write
 * itself (the fleet upserts keep the newest by timestamp, sqliteFleet.ts). When the
 * transaction fails (a lock held past busy_timeout), each write is tried again alone, so a
 * caller sees its own write's outcome, as with one transaction each.
 */
export class SqliteWriteBatch {
  private queued: Array<{ readonly write: () => void; readonly settle: (err?: unknown) => void }> = [];
  private scheduled: NodeJS.Immediate | null = null;

  constructor(private readonly db: CentralDb) {}

  /** Runs `write` (synchronous SQLite calls) in the next batch; resolves once it is committed. */
  enqueue(write: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ write, settle: (err) => (err === undefined ? resolve() : reject(err)) });
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Commits what is queued now (the store calls it before closing the database). */
  flush(): void {
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
    const batch = this.queued;
    this.queued = [];
    if (batch.length === 0) return;
    try {
      this.db.transaction(() => {
        for (const each of batch) each.write();
      })();
    } catch {
      for (const each of batch) {
        try {
          each.write();
        } catch (err) {
          each.settle(err ?? new Error('write failed'));
          continue;
        }
        each.settle();
      }
      return;
    }
    for (const each of batch) each.settle();
  }
}
