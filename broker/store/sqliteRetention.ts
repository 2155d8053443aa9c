import type { WalBacklog } from '../../protocol/walBacklog.js';
import type { WalCheckpointer } from '../../protocol/walCheckpointer.js';
import type { RetentionBatch } from './centralStore.js';
import { HourlyTally } from './sqliteHourlyCounts.js';
import type { CentralDb } from './sqliteSchema.js';

/**
 * Retention on the SQLite store (issue 15 point 5; the contract is CentralStore.deleteEventsBefore).
 * One call is one IMMEDIATE transaction over at most `maxRows` events, oldest first by the
 * terminal's `ts`: SQLite has one writer, so a batch holds up every ingestion commit for as
 * long as it runs, exactly as an insertEvents commit does.
 * The caller (eventRetention.ts) keeps batches short and yields between them; within a batch
 * the events go in chunks of `chunkRows`, and the batch stops at the first chunk that ends past
 * its time budget. Rows cost unevenly (a row's pages of events_credential may be cold, the
 * WAL's checkpoint may hold the file), so a batch sized by the last one's time could still run
 * several times its target: at 10 M events one ran 69 ms against a 15 ms target, and the
 * ingestion commit waiting behind it 91 ms (docs/benchmarks.md).
 *
 * Deleting a row from a WITHOUT ROWID table removes its entries from every secondary index
 * (events_checkpoint, events_terminal, events_ts, events_credential) in the same statement.
 * The oldest ids are found on events_ts, which is `(ts, id)`: a range read from its start,
 * whatever the table's size.
 *
 * A batch also waits for the WAL's checkpoints: a call finding more than `maxWalBacklogPages`
 * frames not yet copied back deletes nothing (`{ events: 0, done: false }`, call again). Each
 * deleted row rewrites ~3 random pages, so retention can write the WAL faster than the
 * checkpointer's worker copies it back; the WAL then grows to the committing connection's
 * backstop, where an ingestion commit checkpoints inside itself: at 10 M events, 31 such
 * checkpoints (each an fsync of the database on the committing thread) in five minutes of
 * retention. Paced by the backlog, retention deletes as fast as the disk takes it back and no
 * faster; the longest gap between ingestion's commits beside it fell from 124 to 76 ms
 * (docs/benchmarks.md, "What the commits waited on beside retention"). Nor does a call write
 * while the checkpointer catches up for a RESTART: the RESTART copies and syncs, on the
 * committing thread, whatever was written after the worker's last pass, and one batch is
 * ~1,000 frames, 15–34 ms of that thread at 1 M events (docs/benchmarks.md, "The RESTART's
 * tail").
 */

interface DeletedEvent {
  readonly code: string;
  readonly ts: number;
  readonly decision: string;
}

/** A few ms of deletes at most: a batch overshoots its budget by no more than one chunk. */
export const chunkRows = 100;

export const deleteOldestEventsSql = `
  DELETE FROM events WHERE id IN (SELECT id FROM events WHERE ts < @cutoff ORDER BY ts LIMIT @limit)
  RETURNING checkpoint_code AS code, ts, decision`;

/**
 * The rollup loses exactly the rows deleted (sqliteHourlyCounts.ts keeps it equal to a count
 * over events), so stats and histograms stay right for an hour the cutoff cuts in two.
 */
const decrementHourSql = `
  UPDATE checkpoint_hourly_counts SET count = count - @count
  WHERE checkpoint_code = @code AND hour_ms = @hour AND decision = @decision`;
const dropEmptyHourSql = `
  DELETE FROM checkpoint_hourly_counts
  WHERE checkpoint_code = @code AND hour_ms = @hour AND decision = @decision AND count <= 0`;

/**
 * A person's last passage (or an operator's take-out) older than the cutoff: who passed and
 * when is what retention removes, and a passage past retention must keep nobody "inside".
 * presence_ts is `(ts, ref)`.
 */
export const deleteOldPresenceSql = `
  DELETE FROM presence WHERE ref IN (SELECT ref FROM presence WHERE ts < @cutoff ORDER BY ts LIMIT @limit)`;

/**
 * Commands to terminals issued before the cutoff (a guard's confirm names who answered, a
 * remote open carries its typed reason): kept no longer than the scans they acted on, read
 * oldest first on terminal_commands_age.
 */
export const deleteOldCommandsSql = `
  DELETE FROM terminal_commands WHERE id IN (
    SELECT id FROM terminal_commands WHERE issued_at_ms < @cutoff ORDER BY issued_at_ms LIMIT @limit)`;

export interface SqliteRetentionOptions {
  /** Frames in the WAL not yet copied back into the database. */
  readonly walBacklog: Pick<WalBacklog, 'pages'>;
  /** Above this backlog a call deletes nothing. */
  readonly maxWalBacklogPages: number;
  /** While a RESTART is pending a call deletes nothing. */
  readonly checkpointer: Pick<WalCheckpointer, 'restartPending'>;
}

export class SqliteRetention {
  private readonly deleteEvents;
  private readonly decrementHour;
  private readonly dropEmptyHour;
  private readonly deletePresence;
  private readonly deleteCommands;
  private readonly batch;

  constructor(
    db: CentralDb,
    private readonly options: SqliteRetentionOptions,
  ) {
    this.deleteEvents = db.prepare<{ cutoff: number; limit: number }, DeletedEvent>(deleteOldestEventsSql);
    this.decrementHour = db.prepare<{ code: string; hour: number; decision: string; count: number }>(decrementHourSql);
    this.dropEmptyHour = db.prepare<{ code: string; hour: number; decision: string }>(dropEmptyHourSql);
    this.deletePresence = db.prepare<{ cutoff: number; limit: number }>(deleteOldPresenceSql);
    this.deleteCommands = db.prepare<{ cutoff: number; limit: number }>(deleteOldCommandsSql);
    this.batch = db.transaction((cutoffMs: number, maxRows: number, budgetMs: number) => this.deleteBatch(cutoffMs, maxRows, budgetMs));
  }

  /** Synchronous: returns once the batch has committed. */
  deleteBefore(cutoffMs: number, maxRows: number, budgetMs = Infinity): RetentionBatch {
    if (!Number.isSafeInteger(maxRows) || maxRows < 1) throw new RangeError(`deleteEventsBefore: maxRows must be a positive integer, got ${maxRows}`);
    if (!Number.isFinite(cutoffMs)) throw new RangeError(`deleteEventsBefore: cutoffMs must be a finite number, got ${cutoffMs}`);
    if (Number.isNaN(budgetMs) || budgetMs < 0) throw new RangeError(`deleteEventsBefore: budgetMs must be 0 or more, got ${budgetMs}`);
    if (this.options.checkpointer.restartPending() || this.options.walBacklog.pages() > this.options.maxWalBacklogPages) return { events: 0, done: false };
    return this.batch.immediate(cutoffMs, maxRows, budgetMs);
  }

  private deleteBatch(cutoffMs: number, maxRows: number, budgetMs: number): RetentionBatch {
    const started = performance.now();
    const tally = new HourlyTally();
    let events = 0;
    let eventsLeft = true;
    while (events < maxRows) {
      const limit = Math.min(chunkRows, maxRows - events);
      const deleted = this.deleteEvents.all({ cutoff: cutoffMs, limit });
      for (const row of deleted) tally.addRow(row.code, row.ts, row.decision);
      events += deleted.length;
      if (deleted.length < limit) {
        eventsLeft = false;
        break;
      }
      if (performance.now() - started >= budgetMs) break;
    }
    for (const bucket of tally.buckets.values()) {
      const key = { code: bucket.code, hour: bucket.hourMs, decision: bucket.decision };
      this.decrementHour.run({ ...key, count: bucket.count });
      this.dropEmptyHour.run(key);
    }
    const presence = this.deletePresence.run({ cutoff: cutoffMs, limit: maxRows }).changes;
    const commands = this.deleteCommands.run({ cutoff: cutoffMs, limit: maxRows }).changes;
    return { events, done: !eventsLeft && presence < maxRows && commands < maxRows };
  }
}
