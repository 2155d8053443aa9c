import type pg from 'pg';
import type { ScanEvent } from '../../../protocol/event.js';
import type { Logger } from '../../../protocol/logger.js';
import type { InsertResult } from '../centralStore.js';
import { overlapSize, planSequence, subtractRange, type SeqRange } from '../sequenceGaps.js';
import { HourlyTally } from '../sqliteHourlyCounts.js';
import { inTransaction, pgErrorCode } from './pgDb.js';
import { KnownPartitions, makePartitionsLocked, noPartitionErrorCode } from './pgPartitions.js';
import { newestPassages, passageColumns, recordPassagesSql } from './pgPresence.js';

/**
 * insertEvents on PostgreSQL: the semantics of sqliteEventWriter.ts (exactly once by event
 * id; sequence gaps, the hourly rollup and presence from the newly stored events only, in
 * the same transaction), made safe for several writers at once: two centrals, or two
 * ingestion commits of one central, may store batches of the same terminal concurrently.
 *
 * Each transaction first takes a transaction advisory lock per terminal in the batch, in
 * ascending key order (so two batches never wait on each other in a cycle): a terminal's
 * max_seq is read, its gaps cut and its max written by one transaction at a time, and a
 * redelivered event meets the committed copy of its first delivery (ON CONFLICT DO NOTHING).
 * The rollup and presence rows several terminals share are written sorted by key, one
 * statement each, so their row locks are also taken in one global order.
 */

const lockTerminalsSql = `
  SELECT pg_advisory_xact_lock(k) FROM (
    SELECT DISTINCT hashtextextended('qrgate.terminal.' || t, 0) AS k FROM unnest($1::text[]) AS t ORDER BY k
  ) AS keys`;

/**
 * The events stored now (their ids), and the batch's terminals' previous max_seq, in one
 * round trip. Runs after the terminal locks, so its snapshot holds every commit of the
 * terminals' earlier writers; the CTE's SELECT reads that snapshot, not the INSERT's rows.
 */
const insertEventsSql = `
  WITH stored AS (
    INSERT INTO events (id, checkpoint_code, terminal_id, lane, direction, decision, reason, credential_type, credential_ref, seq, boot_id, ts, received_at, event)
    SELECT id, cp, t, lane, dir, dec, reason, ctype, decode(ref, 'hex'), seq, boot, ts, $13, ev
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::text[], $12::bigint[], $14::json[])
      AS u(id, cp, t, lane, dir, dec, reason, ctype, ref, seq, boot, ts, ev)
    ON CONFLICT (id, ts) DO NOTHING
    RETURNING id
  )
  SELECT id::text AS id, NULL::text AS "terminalId", NULL::bigint AS "maxSeq" FROM stored
  UNION ALL
  SELECT NULL, terminal_id, max_seq FROM terminal_sequence WHERE terminal_id = ANY($15::text[])`;



const insertGapsSql = `
  INSERT INTO sequence_gaps (terminal_id, from_seq, to_seq)
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])`;

/** As sqliteEventWriter's: the gap starting at or before the run (if it reaches in) and those starting inside it. */
const gapsOverlappingSql = `
  SELECT "fromSeq", "toSeq" FROM (
    SELECT from_seq AS "fromSeq", to_seq AS "toSeq" FROM sequence_gaps
    WHERE terminal_id = $1 AND from_seq <= $2 ORDER BY from_seq DESC LIMIT 1
  ) AS before WHERE "toSeq" >= $2
  UNION ALL
  (SELECT from_seq, to_seq FROM sequence_gaps WHERE terminal_id = $1 AND from_seq > $2 AND from_seq <= $3)`;

const deleteGapSql = 'DELETE FROM sequence_gaps WHERE terminal_id = $1 AND from_seq = $2';

/**
 * Everything the newly stored events change besides themselves, in one round trip: new gaps,
 * each terminal's max_seq, the hourly rollup, presence (pgPresence.ts). The tables differ, so
 * the sub-statements cannot see or step on each other's rows.
 */
const recordSql = `
  WITH opened AS (
    INSERT INTO sequence_gaps (terminal_id, from_seq, to_seq)
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])
  ), sequence AS (
    INSERT INTO terminal_sequence (terminal_id, max_seq, last_event_at_ms)
    SELECT t, m, $6 FROM unnest($4::text[], $5::bigint[]) AS u(t, m) ORDER BY t
    ON CONFLICT (terminal_id) DO UPDATE SET
      max_seq = greatest(terminal_sequence.max_seq, excluded.max_seq),
      last_event_at_ms = greatest(terminal_sequence.last_event_at_ms, excluded.last_event_at_ms)
  ), hourly AS (
    INSERT INTO checkpoint_hourly_counts (checkpoint_code, hour_ms, decision, count)
    SELECT * FROM unnest($7::text[], $8::bigint[], $9::text[], $10::bigint[]) AS u(c, h, d, n) ORDER BY c, h, d
    ON CONFLICT (checkpoint_code, hour_ms, decision) DO UPDATE SET count = checkpoint_hourly_counts.count + excluded.count
  )
  ${recordPassagesSql(11)}`;

export class PgEventWriter {
  private readonly partitions = new KnownPartitions();

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
  ) {}

  async insert(events: readonly ScanEvent[], receivedAtMs: number): Promise<InsertResult> {
    if (events.length === 0) return { inserted: 0, duplicates: 0, stored: [] };
    const tsMs = events.map((e) => Date.parse(e.ts));
    try {
      return await this.tryInsert(events, tsMs, receivedAtMs);
    } catch (err) {
      // Retention dropped a month this batch stores into (a late event from before its cutoff)
      // since the partition was seen. Again, making the months inside the insert's transaction
      // under the partitions lock: retention drops under that lock too, so no drop can come
      // between this time. The slow path: the partition's creation holds the events table.
      if (pgErrorCode(err) !== noPartitionErrorCode) throw err;
      this.partitions.forget();
      return inTransaction(this.pool, (tx) => this.write(tx, events, tsMs, receivedAtMs, true));
    }
  }

  private async tryInsert(events: readonly ScanEvent[], tsMs: readonly number[], receivedAtMs: number): Promise<InsertResult> {
    // Outside the insert's transaction: creating a partition locks the events table briefly,
    // and must not wait behind (or hold up) the terminal locks below.
    if (this.partitions.unknown(tsMs).length > 0) {
      const client = await this.pool.connect();
      try {
        await this.partitions.ensure(client, tsMs);
      } finally {
        client.release();
      }
    }
    return inTransaction(this.pool, (tx) => this.write(tx, events, tsMs, receivedAtMs));
  }

  private async write(tx: pg.PoolClient, events: readonly ScanEvent[], tsMs: readonly number[], receivedAtMs: number, makePartitions = false): Promise<InsertResult> {
    const terminals = [...new Set(events.map((e) => e.terminalId))];
    await tx.query(lockTerminalsSql, [terminals]);
    // After the terminal locks, as every writer takes them before touching events: the
    // creation's lock on events then never waits on a writer that waits on this one.
    if (makePartitions) await makePartitionsLocked(tx, tsMs);
    const { rows } = await tx.query<{ id: string | null; terminalId: string | null; maxSeq: number | null }>(insertEventsSql, [
      ...eventColumns(events, tsMs, receivedAtMs),
      terminals,
    ]);
    const storedIds = new Set<string>();
    const previousMax = new Map<string, number>();
    for (const row of rows) {
      if (row.id !== null) storedIds.add(row.id);
      else previousMax.set(row.terminalId!, row.maxSeq!);
    }

    const stored: ScanEvent[] = [];
    const storedTs: number[] = [];
    const seqsByTerminal = new Map<string, number[]>();
    const hourly = new HourlyTally();
    events.forEach((e, i) => {
      // A redelivery, or the second copy of an event repeated inside this batch.
      if (!storedIds.delete(e.id.toLowerCase())) return;
      stored.push(e);
      storedTs.push(tsMs[i]!);
      hourly.add(e);
      const seqs = seqsByTerminal.get(e.terminalId);
      if (seqs) seqs.push(e.seq);
      else seqsByTerminal.set(e.terminalId, [e.seq]);
    });
    if (stored.length === 0) return { inserted: 0, duplicates: events.length, stored };

    const opened: { terminalId: string; gap: SeqRange }[] = [];
    const maxSeqs: number[] = [];
    for (const [terminalId, seqs] of seqsByTerminal) {
      const plan = planSequence(previousMax.get(terminalId) ?? 0, seqs);
      for (const gap of plan.opened) opened.push({ terminalId, gap });
      let reused = 0;
      for (const run of plan.late) reused += await this.fillGaps(tx, terminalId, run);
      if (reused > 0) {
        // Numbers the terminal had already used: its database was probably restored from an
        // old copy. The events are stored (their ids are new); the sequence cannot vouch for them.
        this.logger.warn({ terminalId, events: reused }, 'store.sequence-reused');
      }
      maxSeqs.push(plan.maxSeq);
    }
    // The stats rollup counts exactly the rows stored above (sqliteHourlyCounts.ts).
    const buckets = [...hourly.buckets.values()];
    await tx.query(recordSql, [
      opened.map((o) => o.terminalId),
      opened.map((o) => o.gap.fromSeq),
      opened.map((o) => o.gap.toSeq),
      [...seqsByTerminal.keys()],
      maxSeqs,
      receivedAtMs,
      buckets.map((b) => b.code),
      buckets.map((b) => b.hourMs),
      buckets.map((b) => b.decision),
      buckets.map((b) => b.count),
      ...passageColumns(newestPassages(stored, storedTs)),
    ]);
    return { inserted: stored.length, duplicates: events.length - stored.length, stored };
  }

  /** Cuts `run` out of the gaps it overlaps; returns how many of its numbers were in no gap. */
  private async fillGaps(tx: pg.PoolClient, terminalId: string, run: SeqRange): Promise<number> {
    let filled = 0;
    const { rows } = await tx.query<SeqRange>(gapsOverlappingSql, [terminalId, run.fromSeq, run.toSeq]);
    for (const gap of rows) {
      filled += overlapSize(gap, run);
      await tx.query(deleteGapSql, [terminalId, gap.fromSeq]);
      const rest = subtractRange(gap, run);
      if (rest.length > 0) await tx.query(insertGapsSql, [rest.map(() => terminalId), rest.map((r) => r.fromSeq), rest.map((r) => r.toSeq)]);
    }
    return run.toSeq - run.fromSeq + 1 - filled;
  }
}

/** The batch as one array per column, for one INSERT … SELECT FROM unnest(…). */
function eventColumns(events: readonly ScanEvent[], tsMs: readonly number[], receivedAtMs: number): unknown[] {
  return [
    events.map((e) => e.id),
    events.map((e) => e.checkpointCode),
    events.map((e) => e.terminalId),
    events.map((e) => e.lane),
    events.map((e) => e.direction),
    events.map((e) => e.decision),
    events.map((e) => e.reason),
    events.map((e) => e.credentialType),
    events.map((e) => e.credentialRef),
    events.map((e) => e.seq),
    events.map((e) => e.bootId),
    tsMs,
    receivedAtMs,
    events.map((e) => JSON.stringify(e)),
  ];
}
