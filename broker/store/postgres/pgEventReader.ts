import type pg from 'pg';
import { decisions, type Decision, type ScanEvent } from '../../../protocol/event.js';
import { maxEventsPerPage, type CheckpointStats, type EventPage, type EventQuery, type HistogramBar, type HistogramBucket } from '../centralStore.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { parseInstant, splitAtHours, statsWindowsMs } from '../sqliteEventReader.js';
import { ceilHourMs, hourStartMs } from '../sqliteHourlyCounts.js';
import { StoreError } from '../storeError.js';
import { bucketMs, bucketStart, localOffsetMs, msToIso } from '../time.js';

/**
 * Stats, histograms and the event log on PostgreSQL: the arithmetic of sqliteEventReader.ts
 * (whole hours from checkpoint_hourly_counts, partial hours from events_checkpoint), so both
 * stores answer the same numbers. A range on `ts` lets the planner prune the events
 * partitions outside it.
 */

type Windows = { lastHour: number; lastDay: number; lastWeek: number; lastMonth: number };
type WindowName = keyof Windows;
const windowNames = Object.keys(statsWindowsMs) as WindowName[];

/**
 * All four windows in one statement (one round trip instead of six): the whole hours from
 * the rollup, as sqliteEventReader's hourlyStatsSql ($2..$5 the first whole hour inside the
 * hour, day, week and month windows, $6 the end of the last whole hour), plus the partial
 * hours from events_checkpoint: $7..$8 the partial hour before "now", shared by the four
 * windows, and $9..$16 each window's partial first hour. A window's two partial ranges are
 * disjoint, so a FILTER on either counts each event once; an empty range matches nothing.
 */
const statsSql = `
  WITH whole AS (
    SELECT decision,
      coalesce(sum(count) FILTER (WHERE hour_ms >= $2), 0) AS h, coalesce(sum(count) FILTER (WHERE hour_ms >= $3), 0) AS d,
      coalesce(sum(count) FILTER (WHERE hour_ms >= $4), 0) AS w, sum(count) AS m
    FROM checkpoint_hourly_counts
    WHERE checkpoint_code = $1 AND hour_ms >= $5 AND hour_ms < $6
    GROUP BY decision
  ), edges AS (
    SELECT decision,
      count(*) FILTER (WHERE (ts >= $7 AND ts < $8) OR (ts >= $9 AND ts < $10)) AS h,
      count(*) FILTER (WHERE (ts >= $7 AND ts < $8) OR (ts >= $11 AND ts < $12)) AS d,
      count(*) FILTER (WHERE (ts >= $7 AND ts < $8) OR (ts >= $13 AND ts < $14)) AS w,
      count(*) FILTER (WHERE (ts >= $7 AND ts < $8) OR (ts >= $15 AND ts < $16)) AS m
    FROM events
    WHERE checkpoint_code = $1 AND ((ts >= $7 AND ts < $8) OR (ts >= $9 AND ts < $10) OR (ts >= $11 AND ts < $12) OR (ts >= $13 AND ts < $14) OR (ts >= $15 AND ts < $16))
    GROUP BY decision
  )
  SELECT decision, sum(h) AS "lastHour", sum(d) AS "lastDay", sum(w) AS "lastWeek", sum(m) AS "lastMonth"
  FROM (SELECT * FROM whole UNION ALL SELECT * FROM edges) AS parts
  GROUP BY decision`;

/** The start of the bar holding `column` ($4 offset, $5 width): a floored division, right for negative times too. */
const barStart = (column: string) => `(${column} + $4) - (((${column} + $4) % $5) + $5) % $5 - $4`;
const histogramSql = `
  SELECT ${barStart('ts')} AS "startMs", count(*) AS count FROM events
  WHERE checkpoint_code = $1 AND ts >= $2 AND ts < $3
  GROUP BY 1`;
const hourlyHistogramSql = `
  SELECT ${barStart('hour_ms')} AS "startMs", sum(count) AS count FROM checkpoint_hourly_counts
  WHERE checkpoint_code = $1 AND hour_ms >= $2 AND hour_ms < $3
  GROUP BY 1`;

/** Even-length hex only: decode() would fail on anything else, and such a ref matches no event anyway. */
const hexPattern = /^(?:[0-9a-fA-F]{2})*$/;

interface EventRow {
  readonly id: string;
  readonly ts: number;
  readonly receivedAt: number;
  /** json: parsed by node-postgres. */
  readonly event: ScanEvent & { receivedAt: string };
}

export class PgEventReader {
  constructor(private readonly pool: pg.Pool) {}

  /** As SqliteEventReader.checkpointCounts: a window is (nowMs - length, nowMs]. */
  async checkpointCounts(code: string, nowMs: number): Promise<Pick<CheckpointStats, 'lastHour' | 'lastDay' | 'lastWeek' | 'lastMonth' | 'byDecision'>> {
    const zero = (): Windows => ({ lastHour: 0, lastDay: 0, lastWeek: 0, lastMonth: 0 });
    const byDecision = Object.fromEntries(decisions.map((d) => [d, zero()])) as Record<Decision, Windows>;
    const add = (decision: string, window: WindowName, count: number) => {
      const windows = byDecision[decision as Decision];
      if (windows !== undefined) windows[window] += count;
    };
    const end = nowMs + 1;
    const wholeEnd = hourStartMs(end);
    const wholeFrom = (w: WindowName) => ceilHourMs(end - statsWindowsMs[w]);
    const { rows } = await this.pool.query<Windows & { decision: string }>(statsSql, [
      code,
      ...windowNames.map(wholeFrom),
      wholeEnd,
      wholeEnd,
      end,
      ...windowNames.flatMap((w) => [end - statsWindowsMs[w], wholeFrom(w)]),
    ]);
    for (const row of rows) for (const w of windowNames) add(row.decision, w, row[w]);
    const total = zero();
    for (const windows of Object.values(byDecision)) for (const w of windowNames) total[w] += windows[w];
    return { ...total, byDecision };
  }

  async checkpointHistogram(code: string, fromMs: number, toMs: number, bucket: HistogramBucket): Promise<HistogramBar[]> {
    const width = bucketMs[bucket];
    const counted = new Map<number, number>();
    const { whole, edges } = splitAtHours(fromMs, toMs);
    const parts = await Promise.all([
      ...(whole === null ? [] : [this.pool.query<HistogramBar>(hourlyHistogramSql, [code, whole.from, whole.to, localOffsetMs, width])]),
      ...edges.map((edge) => this.pool.query<HistogramBar>(histogramSql, [code, edge.from, edge.to, localOffsetMs, width])),
    ]);
    for (const part of parts) for (const bar of part.rows) counted.set(bar.startMs, (counted.get(bar.startMs) ?? 0) + bar.count);
    const bars: HistogramBar[] = [];
    for (let start = bucketStart(fromMs, bucket); start < toMs; start += width) bars.push({ startMs: start, count: counted.get(start) ?? 0 });
    return bars;
  }

  async search(query: EventQuery): Promise<EventPage> {
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > maxEventsPerPage) {
      throw new StoreError('query-invalid', `limit must be a whole number from 1 to ${maxEventsPerPage}, got ${query.limit}`);
    }
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const params: unknown[] = [];
    const where: string[] = [];
    const bind = (value: unknown) => `$${params.push(value)}`;
    if (query.checkpoint !== undefined) where.push(`checkpoint_code = ${bind(query.checkpoint)}`);
    if (query.checkpoints !== undefined) where.push(`checkpoint_code = ANY(${bind(query.checkpoints)}::text[])`);
    if (query.terminal !== undefined) where.push(`terminal_id = ${bind(query.terminal)}`);
    if (query.from !== undefined) where.push(`ts >= ${bind(parseInstant('from', query.from))}`);
    if (query.to !== undefined) where.push(`ts < ${bind(parseInstant('to', query.to))}`);
    if (query.direction !== undefined) where.push(`direction = ${bind(query.direction)}`);
    if (query.decision !== undefined) where.push(`decision = ${bind(query.decision)}`);
    if (cursor !== undefined) where.push(`(ts, id) < (${bind(cursor.tsMs)}::bigint, ${bind(cursor.id)}::uuid)`);
    if (query.credentialRefs !== undefined) {
      const refs = [...new Set(query.credentialRefs.filter((ref) => hexPattern.test(ref)).map((ref) => ref.toLowerCase()))];
      where.push(`credential_ref = ANY(${bind(refs.map((ref) => Buffer.from(ref, 'hex')))}::bytea[])`);
    }
    const sql = `SELECT id, ts, received_at AS "receivedAt", event FROM events
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY ts DESC, id DESC LIMIT ${bind(query.limit + 1)}`;
    const { rows } = await this.pool.query<EventRow>(sql, params);
    // One row more than asked says whether another page exists, without a count.
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    let receivedMs = Number.NaN;
    let receivedIso = '';
    return {
      events: page.map((row) => {
        if (row.receivedAt !== receivedMs) receivedIso = msToIso((receivedMs = row.receivedAt));
        const event = row.event;
        event.receivedAt = receivedIso;
        return event;
      }),
      nextCursor: rows.length > query.limit && last ? encodeCursor({ tsMs: last.ts, id: last.id }) : null,
    };
  }
}
