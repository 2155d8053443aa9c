import type pg from 'pg';
import type { Logger } from '../../../protocol/logger.js';
import type { RetentionBatch } from '../centralStore.js';
import { hourMs } from '../sqliteHourlyCounts.js';
import { inTransaction } from './pgDb.js';
import { listPartitions, partitionMonth, partitionsLockSql } from './pgPartitions.js';

/**
 * Retention on PostgreSQL (issue 15 point 5; the contract is CentralStore.deleteEventsBefore,
 * the row-by-row twin is sqliteRetention.ts). Nothing here runs on the central's event loop,
 * but each call is still one short transaction, so a pass never holds locks for long:
 *
 * - Each month partition lying wholly before the cutoff goes with DROP TABLE, oldest first:
 *   no dead rows, no index to clean, no VACUUM after a month of deletes. Months are whole UTC
 *   hours, so that month's hourly rollup rows count exactly its events: they go first, at most
 *   maxRows of them a call, and their counts are the events the drop then deletes (more than
 *   maxRows in a call, which the contract allows a partition-dropping store). An empty month
 *   goes the same way.
 * - Then the partition the cutoff falls in: at most maxRows events, oldest first on the
 *   events_ts index, with their rollup rows decremented by exactly what was deleted, as the
 *   SQLite store does; and presence rows older than the cutoff, maxRows at most.
 *
 * The sequence bookkeeping (terminal_sequence, sequence_gaps) is never touched: a terminal's
 * next event opens no gap where deleted events were.
 *
 * The caller's time budget is not used: the batch is one statement, and PostgreSQL's writers
 * do not queue behind it as SQLite's one writer does (they wait only on the rows it deletes).
 */

/**
 * DROP TABLE of a partition takes the events table's ACCESS EXCLUSIVE lock: it waits for the
 * transactions using events to end, and every new one waits behind it. A report reading for
 * long would hold ingestion up behind the drop, so the drop gives up instead (lock_not_available,
 * the pass fails and the next one tries again) after this long.
 */
const dropLockTimeout = '2s';

/**
 * A month's rollup rows go before its partition, in chunks of at most $3 rows, each its own
 * short transaction: the drop holds the events table, so every writer waits while it runs,
 * and a month of rollup rows deleted under it (~75,000 rows at 50 checkpoints, 200 ms here)
 * held ingestion as long (commit fdb8931; docs/benchmarks.md, "Retention at 10,000,000
 * events, 2026-12-05"). Meanwhile the month's events are still there and its hours count fewer of them:
 * hours wholly past the cutoff, whose events this pass deletes.
 *
 * By ctid, since the table is not partitioned: a row a writer updates meanwhile moves to a
 * new ctid, is skipped on the recheck, and goes with the next chunk.
 */
const clearMonthHoursChunkSql = `
  WITH gone AS (
    DELETE FROM checkpoint_hourly_counts WHERE ctid = ANY(ARRAY(
      SELECT ctid FROM checkpoint_hourly_counts WHERE hour_ms >= $1 AND hour_ms < $2 LIMIT $3))
    RETURNING count
  )
  SELECT count(*) AS rows, coalesce(sum(count), 0) AS events FROM gone`;

/**
 * Under the drop, what writers counted into the month since its last chunk: usually nothing,
 * found on the hour index. Once the drop holds the events table, every writer that stored
 * events in that month has committed its rollup increments (same transaction), so these rows
 * and the chunks before them count exactly the events dropped; a writer after it finds no
 * partition, makes the month again (pgEventWriter.ts) and counts its events afresh. The
 * events-then-rollup order is the writers' own: no deadlock.
 */
const deleteMonthHoursSql = `
  WITH gone AS (DELETE FROM checkpoint_hourly_counts WHERE hour_ms >= $1 AND hour_ms < $2 RETURNING count)
  SELECT coalesce(sum(count), 0) AS events FROM gone`;

/**
 * One batch of the boundary partition, and its rollup decremented, in one statement: the
 * UPDATE sees only the rows this DELETE removed (a second node deleting the same rows at once
 * waits on them, then finds them gone and returns nothing for them).
 *
 * This delete and those after it pick their rows as `key = ANY(ARRAY(subquery))`, not
 * `key IN (subquery)`: the array is computed once and probed through the primary key, a plan
 * that cannot turn. With IN the planner may choose a semi join over the materialized
 * subquery, and when it misjudged the rows past the cutoff (2 planned) a presence delete
 * compared every old row with every selected one: 394 ms for one batch (docs/benchmarks.md,
 * "PostgreSQL at 10,000,000 events"). Events go by id, the primary key's first column, and
 * `ts < $1`: should one id be stored under two stamps (a terminal's clock reset between two
 * sends of one event), both past the cutoff go together and RETURNING counts each.
 */
const deleteOldestEventsSql = `
  WITH gone AS (
    DELETE FROM events WHERE id = ANY(ARRAY(SELECT id FROM events WHERE ts < $1 ORDER BY ts LIMIT $2)) AND ts < $1
    RETURNING checkpoint_code, ts, decision
  ), tally AS (
    SELECT checkpoint_code AS code, ts - ((ts % ${hourMs}) + ${hourMs}) % ${hourMs} AS hour, decision, count(*) AS n
    FROM gone GROUP BY 1, 2, 3
  ), decremented AS (
    UPDATE checkpoint_hourly_counts h SET count = h.count - tally.n
    FROM tally WHERE h.checkpoint_code = tally.code AND h.hour_ms = tally.hour AND h.decision = tally.decision
  )
  SELECT code, hour, decision, n FROM tally`;

const dropEmptyHoursSql = `
  DELETE FROM checkpoint_hourly_counts h USING unnest($1::text[], $2::bigint[], $3::text[]) AS u(code, hour, decision)
  WHERE h.checkpoint_code = u.code AND h.hour_ms = u.hour AND h.decision = u.decision AND h.count <= 0`;

/**
 * As sqliteRetention.ts's. `ts < $1` again outside the subquery: a passage stored meanwhile
 * (a newer ts on the same ref) is re-checked against it after the row lock, and stays.
 */
const deleteOldPresenceSql = `
  DELETE FROM presence WHERE ref = ANY(ARRAY(SELECT ref FROM presence WHERE ts < $1 ORDER BY ts LIMIT $2)) AND ts < $1`;

/** As sqliteRetention.ts's. */
const deleteOldCommandsSql = `
  DELETE FROM terminal_commands WHERE id = ANY(ARRAY(
    SELECT id FROM terminal_commands WHERE issued_at_ms < $1 ORDER BY issued_at_ms LIMIT $2))`;

export class PgRetention {
  /** Per month being cleared, the events its rollup chunks have counted so far in this process: the drop's log line reports the whole month. */
  private readonly countedByMonth = new Map<string, number>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
  ) {}

  async deleteBefore(cutoffMs: number, maxRows: number): Promise<RetentionBatch> {
    if (!Number.isSafeInteger(maxRows) || maxRows < 1) throw new RangeError(`deleteEventsBefore: maxRows must be a positive integer, got ${maxRows}`);
    if (!Number.isFinite(cutoffMs)) throw new RangeError(`deleteEventsBefore: cutoffMs must be a finite number, got ${cutoffMs}`);
    let dropped = 0;
    for (const month of await this.wholeMonthsBefore(cutoffMs)) {
      const chunk = (await this.pool.query<{ rows: number; events: number }>(clearMonthHoursChunkSql, [month.startMs, month.endMs, maxRows])).rows[0]!;
      dropped += chunk.events;
      const counted = (this.countedByMonth.get(month.name) ?? 0) + chunk.events;
      // A full chunk: more of the month's rollup may be left, for the next call.
      if (chunk.rows >= maxRows) {
        this.countedByMonth.set(month.name, counted);
        return { events: dropped, done: false };
      }
      const events = await inTransaction(this.pool, (tx) => this.dropMonth(tx, month));
      this.countedByMonth.delete(month.name);
      this.logger.info({ partition: month.name, events: counted + events }, 'store.retention-partition-dropped');
      dropped += events;
    }
    // ts is integer ms: ts < ceil(cutoff) is ts < cutoff, and binds as a bigint.
    const batch = await inTransaction(this.pool, (tx) => this.deleteBatch(tx, Math.ceil(cutoffMs), maxRows));
    return { events: dropped + batch.events, done: batch.done };
  }

  /** The partitions whose whole month is before the cutoff, oldest first. */
  private async wholeMonthsBefore(cutoffMs: number): Promise<{ name: string; startMs: number; endMs: number }[]> {
    const client = await this.pool.connect();
    try {
      const months = (await listPartitions(client)).map((name) => ({ name, month: partitionMonth(name) }));
      return months.flatMap(({ name, month }) => (month !== null && month.endMs <= cutoffMs ? [{ name, ...month }] : []));
    } finally {
      client.release();
    }
  }

  private async dropMonth(tx: pg.PoolClient, month: { name: string; startMs: number; endMs: number }): Promise<number> {
    // The lock ensureMonthPartitions takes: a month is not made and dropped at once.
    await tx.query(partitionsLockSql);
    await tx.query(`SET LOCAL lock_timeout = '${dropLockTimeout}'`);
    // The name matched partitionMonth's pattern: events_pYYYYMM, nothing from outside.
    await tx.query(`DROP TABLE IF EXISTS ${month.name}`);
    const { rows } = await tx.query<{ events: number }>(deleteMonthHoursSql, [month.startMs, month.endMs]);
    return rows[0]!.events;
  }

  private async deleteBatch(tx: pg.PoolClient, cutoffMs: number, maxRows: number): Promise<RetentionBatch> {
    const { rows } = await tx.query<{ code: string; hour: number; decision: string; n: number }>(deleteOldestEventsSql, [cutoffMs, maxRows]);
    if (rows.length > 0) await tx.query(dropEmptyHoursSql, [rows.map((r) => r.code), rows.map((r) => r.hour), rows.map((r) => r.decision)]);
    const events = rows.reduce((sum, r) => sum + r.n, 0);
    const presence = (await tx.query(deleteOldPresenceSql, [cutoffMs, maxRows])).rowCount ?? 0;
    const commands = (await tx.query(deleteOldCommandsSql, [cutoffMs, maxRows])).rowCount ?? 0;
    return { events, done: events < maxRows && presence < maxRows && commands < maxRows };
  }
}
