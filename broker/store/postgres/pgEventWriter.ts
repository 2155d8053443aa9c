import type pg from 'pg';
import type { ScanEvent } from '../../../protocol/event.js';
import type { Logger } from '../../../protocol/logger.js';
import type { InsertResult } from '../centralStore.js';
import { overlapSize, planSequence, subtractRange, type SeqRange } from '../sequenceGaps.js';
import { HourlyTally } from '../sqliteHourlyCounts.js';
import { inTransaction, pgErrorCode } from './pgDb.js';
import { KnownPartitions, noPartitionErrorCode } from './pgPartitions.js';
import { newestPassages, recordPassages } from './pgPresence.js';

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

const insertEventsSql = `
  INSERT INTO events (id, checkpoint_code, terminal_id, lane, direction, decision, reason, credential_type, credential_ref, seq, boot_id, ts, received_at, event)
  SELECT id, cp, t, lane, dir, dec, reason, ctype, decode(ref, 'hex'), seq, boot, ts, $13, ev
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::text[], $12::bigint[], $14::json[])
    AS u(id, cp, t, lane, dir, dec, reason, ctype, ref, seq, boot, ts, ev)
  ON CONFLICT (id, ts) DO NOTHING
  RETURNING id`;

const readMaxSeqSql = 'SELECT terminal_id AS "terminalId", max_seq AS "maxSeq" FROM terminal_sequence WHERE terminal_id = ANY($1::text[])';

const upsertSequenceSql = `
  INSERT INTO terminal_sequence (terminal_id, max_seq, last_event_at_ms)
  SELECT t, m, $3 FROM unnest($1::text[], $2::bigint[]) AS u(t, m) ORDER BY t
  ON CONFLICT (terminal_id) DO UPDATE SET
    max_seq = greatest(terminal_sequence.max_seq, excluded.max_seq),
    last_event_at_ms = greatest(terminal_sequence.last_event_at_ms, excluded.last_event_at_ms)`;

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

const upsertHourlySql = `
  INSERT INTO checkpoint_hourly_counts (checkpoint_code, hour_ms, decision, count)
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[]) AS u(c, h, d, n) ORDER BY c, h, d
  ON CONFLICT (checkpoint_code, hour_ms, decision) DO UPDATE SET count = checkpoint_hourly_counts.count + excluded.count`;

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
      // A partition this store had cached was dropped since (retention): look again, once.
      if (pgErrorCode(err) !== noPartitionErrorCode) throw err;
      this.partitions.forget();
      return this.tryInsert(events, tsMs, receivedAtMs);
    }
  }

  private async tryInsert(events: readonly ScanEvent[], tsMs: readonly number[], receivedAtMs: number): Promise<InsertResult> {
    // Outside the insert's transaction: creating a partition locks the events table briefly,
    // and must not wait behind (or hold up) the terminal locks below.
    const client = await this.pool.connect();
    try {
      await this.partitions.ensure(client, tsMs);
    } finally {
      client.release();
    }
    return inTransaction(this.pool, (tx) => this.write(tx, events, tsMs, receivedAtMs));
  }

  private async write(tx: pg.PoolClient, events: readonly ScanEvent[], tsMs: readonly number[], receivedAtMs: number): Promise<InsertResult> {
    const terminals = [...new Set(events.map((e) => e.terminalId))];
    await tx.query(lockTerminalsSql, [terminals]);
    const storedIds = new Set((await tx.query<{ id: string }>(insertEventsSql, eventColumns(events, tsMs, receivedAtMs))).rows.map((row) => row.id));

    const stored: ScanEvent[] = [];
    const storedTs: number[] = [];
    const seqsByTerminal = new Map<string, number[]>();
    const hourly = new HourlyTally();
    events.forEach((e, i) => {
      const id = e.id.toLowerCase();
      // A redelivery, or the second copy of an event repeated inside this batch.
      if (!storedIds.delete(id)) return;
      stored.push(e);
      storedTs.push(tsMs[i]!);
      hourly.add(e);
      const seqs = seqsByTerminal.get(e.terminalId);
      if (seqs) seqs.push(e.seq);
      else seqsByTerminal.set(e.terminalId, [e.seq]);
    });
    if (stored.length > 0) {
      await this.trackSequences(tx, seqsByTerminal, receivedAtMs);
      // The stats rollup, exactly the rows stored above (sqliteHourlyCounts.ts).
      const buckets = [...hourly.buckets.values()];
      await tx.query(upsertHourlySql, [buckets.map((b) => b.code), buckets.map((b) => b.hourMs), buckets.map((b) => b.decision), buckets.map((b) => b.count)]);
      await recordPassages(tx, newestPassages(stored, storedTs));
    }
    return { inserted: stored.length, duplicates: events.length - stored.length, stored };
  }

  private async trackSequences(tx: pg.PoolClient, seqsByTerminal: Map<string, number[]>, receivedAtMs: number): Promise<void> {
    const terminals = [...seqsByTerminal.keys()];
    const previous = new Map((await tx.query<{ terminalId: string; maxSeq: number }>(readMaxSeqSql, [terminals])).rows.map((r) => [r.terminalId, r.maxSeq]));
    const opened: { terminalId: string; gap: SeqRange }[] = [];
    const maxSeqs: number[] = [];
    for (const terminalId of terminals) {
      const plan = planSequence(previous.get(terminalId) ?? 0, seqsByTerminal.get(terminalId)!);
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
    if (opened.length > 0) {
      await tx.query(insertGapsSql, [opened.map((o) => o.terminalId), opened.map((o) => o.gap.fromSeq), opened.map((o) => o.gap.toSeq)]);
    }
    await tx.query(upsertSequenceSql, [terminals, maxSeqs, receivedAtMs]);
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
