import type { ScanEvent } from '../../protocol/event.js';
import type { Logger } from '../../protocol/logger.js';
import type { InsertResult } from './centralStore.js';
import { HourlyCountsWriter, HourlyTally } from './sqliteHourlyCounts.js';
import { overlapSize, planSequence, subtractRange, type SeqRange } from './sequenceGaps.js';
import type { CentralDb } from './sqliteSchema.js';
import type { SqlitePresence } from './sqlitePresence.js';

/**
 * The hot path: the ingestion's group commits (up to a few thousand events from many
 * publishes) land here. One IMMEDIATE transaction per batch; per event one INSERT and no
 * read, except for late events, which need the gap they fall into. Per terminal one read
 * of its previous maximum and one upsert, whatever the batch size.
 */
export class SqliteEventWriter {
  private readonly insertEvent;
  private readonly readMaxSeq;
  private readonly upsertSequence;
  private readonly gapsOverlapping;
  private readonly insertGap;
  private readonly deleteGap;
  private readonly batch;
  private readonly hourlyCounts;

  constructor(
    db: CentralDb,
    private readonly logger: Logger,
    /** Who is inside now: each stored passage updates it in the same transaction. */
    private readonly presence: SqlitePresence,
  ) {
    // credential_ref: the hex ref as bytes, converted by SQLite (unhex(NULL) is NULL), for the log's person filters (sqliteSchema.ts).
    this.insertEvent = db.prepare<[string, string, string, string, string, string, string, string, number, string, number, number, string, string | null]>(
      `INSERT INTO events (id, checkpoint_code, terminal_id, lane, direction, decision, reason, credential_type, seq, boot_id, ts, received_at, event, credential_ref)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, unhex(?)) ON CONFLICT (id) DO NOTHING`,
    );
    this.readMaxSeq = db.prepare<[string], { maxSeq: number }>('SELECT max_seq AS maxSeq FROM terminal_sequence WHERE terminal_id = ?');
    this.upsertSequence = db.prepare<[string, number, number]>(
      `INSERT INTO terminal_sequence (terminal_id, max_seq, last_event_at_ms) VALUES (?, ?, ?)
       ON CONFLICT (terminal_id) DO UPDATE SET
         max_seq = max(max_seq, excluded.max_seq), last_event_at_ms = max(last_event_at_ms, excluded.last_event_at_ms)`,
    );
    // Two index probes instead of one range condition on both ends: the gap that starts at
    // or before the run (if it reaches into it) and those starting inside it. Stays
    // logarithmic for a terminal with thousands of gaps.
    this.gapsOverlapping = db.prepare<{ terminalId: string; fromSeq: number; toSeq: number }, SeqRange>(
      `SELECT fromSeq, toSeq FROM (
         SELECT from_seq AS fromSeq, to_seq AS toSeq FROM sequence_gaps
         WHERE terminal_id = @terminalId AND from_seq <= @fromSeq ORDER BY from_seq DESC LIMIT 1
       ) WHERE toSeq >= @fromSeq
       UNION ALL
       SELECT from_seq, to_seq FROM sequence_gaps WHERE terminal_id = @terminalId AND from_seq > @fromSeq AND from_seq <= @toSeq`,
    );
    this.insertGap = db.prepare<[string, number, number]>('INSERT INTO sequence_gaps (terminal_id, from_seq, to_seq) VALUES (?, ?, ?)');
    this.deleteGap = db.prepare<[string, number]>('DELETE FROM sequence_gaps WHERE terminal_id = ? AND from_seq = ?');
    this.hourlyCounts = new HourlyCountsWriter(db);
    this.batch = db.transaction((events: readonly ScanEvent[], receivedAtMs: number) => this.write(events, receivedAtMs));
  }

  /** Synchronous: returns once the transaction has committed. */
  insert(events: readonly ScanEvent[], receivedAtMs: number): InsertResult {
    if (events.length === 0) return { inserted: 0, duplicates: 0, stored: [] };
    return this.batch.immediate(events, receivedAtMs);
  }

  private write(events: readonly ScanEvent[], receivedAtMs: number): InsertResult {
    const storedSeqs = new Map<string, number[]>();
    const stored: ScanEvent[] = [];
    const hourly = new HourlyTally();
    for (const e of events) {
      const tsMs = Date.parse(e.ts);
      const { changes } = this.insertEvent.run(
        e.id,
        e.checkpointCode,
        e.terminalId,
        e.lane,
        e.direction,
        e.decision,
        e.reason,
        e.credentialType,
        e.seq,
        e.bootId,
        tsMs,
        receivedAtMs,
        JSON.stringify(e),
        e.credentialRef,
      );
      // A redelivery (changes === 0) was counted in the sequence when it first arrived.
      if (changes === 0) continue;
      stored.push(e);
      hourly.add(e);
      this.presence.record(e, tsMs);
      const seqs = storedSeqs.get(e.terminalId);
      if (seqs) seqs.push(e.seq);
      else storedSeqs.set(e.terminalId, [e.seq]);
    }
    for (const [terminalId, seqs] of storedSeqs) this.trackSequence(terminalId, seqs, receivedAtMs);
    // The stats rollup (sqliteHourlyCounts.ts), in this same transaction: exactly the rows stored above.
    this.hourlyCounts.write(hourly);
    return { inserted: stored.length, duplicates: events.length - stored.length, stored };
  }

  private trackSequence(terminalId: string, seqs: readonly number[], receivedAtMs: number): void {
    const plan = planSequence(this.readMaxSeq.get(terminalId)?.maxSeq ?? 0, seqs);
    for (const gap of plan.opened) this.insertGap.run(terminalId, gap.fromSeq, gap.toSeq);
    let reused = 0;
    for (const run of plan.late) reused += this.fillGaps(terminalId, run);
    if (reused > 0) {
      // Numbers the terminal had already used: its database was probably restored from an
      // old copy. The events are stored (their ids are new); the sequence cannot vouch for them.
      this.logger.warn({ terminalId, events: reused }, 'store.sequence-reused');
    }
    this.upsertSequence.run(terminalId, plan.maxSeq, receivedAtMs);
  }

  /** Cuts `run` out of the gaps it overlaps; returns how many of its numbers were in no gap. */
  private fillGaps(terminalId: string, run: SeqRange): number {
    let filled = 0;
    for (const gap of this.gapsOverlapping.all({ terminalId, fromSeq: run.fromSeq, toSeq: run.toSeq })) {
      filled += overlapSize(gap, run);
      this.deleteGap.run(terminalId, gap.fromSeq);
      for (const rest of subtractRange(gap, run)) this.insertGap.run(terminalId, rest.fromSeq, rest.toSeq);
    }
    return run.toSeq - run.fromSeq + 1 - filled;
  }
}
