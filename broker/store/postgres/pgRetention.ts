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
 * - Each month partition lying wholly before the cutoff goes with DROP TABLE, oldest first,
 *   one transaction each: no dead rows, no index to clean, no VACUUM after a month of deletes. Months
 *   are whole UTC hours, so that month's hourly rollup rows count exactly its events: they go
 *   too, and their sum is the number of events the drop deleted (more than maxRows in a call,
 *   which the contract allows a partition-dropping store). An empty month goes the same way.
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
 * The drop comes before the rollup's delete: once it holds the events table, every writer
 * that stored events in that month has committed its rollup increments (same transaction),
 * and a writer after it finds no partition, makes the month again (pgEventWriter.ts) and
 * counts its events afresh. The events-then-rollup order is the writers' own: no deadlock.
 */
const deleteMonthHoursSql = `
  WITH gone AS (DELETE FROM checkpoint_hourly_counts WHERE hour_ms >= $1 AND hour_ms < $2 RETURNING count)
  SELECT coalesce(sum(count), 0) AS events FROM gone`;

/**
 * One batch of the boundary partition, and its rollup decremented, in one statement: the
 * UPDATE sees only the rows this DELETE removed (a second node deleting the same rows at once
 * waits on them, then finds them gone and returns nothing for them).
 */
const deleteOldestEventsSql = `
  WITH gone AS (
    DELETE FROM events WHERE (id, ts) IN (SELECT id, ts FROM events WHERE ts < $1 ORDER BY ts LIMIT $2)
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
  DELETE FROM presence WHERE ref IN (SELECT ref FROM presence WHERE ts < $1 ORDER BY ts LIMIT $2) AND ts < $1`;

/** As sqliteRetention.ts's. */
const deleteOldCommandsSql = `
  DELETE FROM terminal_commands WHERE id IN (
    SELECT id FROM terminal_commands WHERE issued_at_ms < $1 ORDER BY issued_at_ms LIMIT $2)`;

export class PgRetention {
  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
  ) {}

  async deleteBefore(cutoffMs: number, maxRows: number): Promise<RetentionBatch> {
    if (!Number.isSafeInteger(maxRows) || maxRows < 1) throw new RangeError(`deleteEventsBefore: maxRows must be a positive integer, got ${maxRows}`);
    if (!Number.isFinite(cutoffMs)) throw new RangeError(`deleteEventsBefore: cutoffMs must be a finite number, got ${cutoffMs}`);
    let dropped = 0;
    for (const month of await this.wholeMonthsBefore(cutoffMs)) {
      const events = await inTransaction(this.pool, (tx) => this.dropMonth(tx, month));
      this.logger.info({ partition: month.name, events }, 'store.retention-partition-dropped');
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
