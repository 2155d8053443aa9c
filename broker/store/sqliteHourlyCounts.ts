import type { ScanEvent } from '../../protocol/event.js';
// The driver's own type, not sqliteSchema's CentralDb alias: the schema imports this module's
// SQL for its migration, and the tie should run one way.
import type Database from 'better-sqlite3';

/**
 * A checkpoint's scans per UTC hour, by decision: the rollup that lets
 * checkpointStats and checkpointHistogram read at most 720 hours of a month instead of every
 * event in it (issue 15 measured the scan at 15 ms p95 for 50,000 events, linear in the
 * month). Every window those queries ask for starts and ends on a whole local hour or on
 * "now"; Asia/Ho_Chi_Minh is UTC+7 all year, so its days are whole UTC hours and one table
 * serves both. The partial hours at a window's edges are counted from events_checkpoint.
 * Not by direction: that doubles the rows a month's stats sum (measured: 2.1 -> 1.x ms per
 * checkpoint, and the overview sums one per checkpoint); nothing reads direction counts yet.
 *
 * `hour_ms` is the start of the hour holding the terminal's `ts` (floored, so a ts before
 * 1970 still lands in the hour that holds it, as in hourStartMs below).
 */
export const hourMs = 3_600_000;

export const hourlyCountsTableSql = `
  CREATE TABLE checkpoint_hourly_counts (
    checkpoint_code TEXT NOT NULL,
    hour_ms INTEGER NOT NULL,
    decision TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (checkpoint_code, hour_ms, decision)
  ) WITHOUT ROWID;`;

/** Rebuilds the rollup from events: the migration's backfill, and a bulk loader's last step. */
export const hourlyCountsBackfillSql = `
  DELETE FROM checkpoint_hourly_counts;
  INSERT INTO checkpoint_hourly_counts (checkpoint_code, hour_ms, decision, count)
    SELECT checkpoint_code, ts - ((ts % ${hourMs}) + ${hourMs}) % ${hourMs} AS hour_ms, decision, count(*)
    FROM events GROUP BY checkpoint_code, hour_ms, decision;`;

export function hourStartMs(ms: number): number {
  return Math.floor(ms / hourMs) * hourMs;
}

/** The first hour boundary at or after `ms`. */
export function ceilHourMs(ms: number): number {
  return Math.ceil(ms / hourMs) * hourMs;
}

export function rebuildHourlyCounts(db: Database.Database): void {
  db.transaction(() => db.exec(hourlyCountsBackfillSql)).immediate();
}

/**
 * One insertEvents transaction's newly stored events, counted per (checkpoint, hour,
 * decision): the hot path pays a Map update per event and one upsert per key.
 * Only events the INSERT really stored are added (a redelivery was counted when it first
 * arrived), which keeps the rollup exactly equal to a count over events. A fresh tally per
 * transaction, so nothing gathered for a batch that rolled back is ever written.
 */
export class HourlyTally {
  readonly buckets = new Map<string, { code: string; hourMs: number; decision: string; count: number }>();

  add(event: Pick<ScanEvent, 'checkpointCode' | 'ts' | 'decision'>): void {
    this.addRow(event.checkpointCode, Date.parse(event.ts), event.decision);
  }

  /** A row as the events table holds it (retention tallies the rows it deletes: sqliteRetention.ts). */
  addRow(checkpointCode: string, tsMs: number, decision: string): void {
    const hour = hourStartMs(tsMs);
    const key = `${checkpointCode}\u0000${hour}\u0000${decision}`;
    const bucket = this.buckets.get(key);
    if (bucket) bucket.count++;
    else this.buckets.set(key, { code: checkpointCode, hourMs: hour, decision, count: 1 });
  }
}

export class HourlyCountsWriter {
  private readonly upsert;

  constructor(db: Database.Database) {
    this.upsert = db.prepare<[string, number, string, number]>(
      `INSERT INTO checkpoint_hourly_counts (checkpoint_code, hour_ms, decision, count) VALUES (?, ?, ?, ?)
       ON CONFLICT (checkpoint_code, hour_ms, decision) DO UPDATE SET count = count + excluded.count`,
    );
  }

  /** Inside the transaction that stored the tallied events. */
  write(tally: HourlyTally): void {
    for (const b of tally.buckets.values()) this.upsert.run(b.code, b.hourMs, b.decision, b.count);
  }
}
