import type { Statement } from 'better-sqlite3';
import { decisions, type Decision, type ScanEvent } from '../../protocol/event.js';
import { maxEventsPerPage, type CheckpointStats, type LastDayCounts, type EventPage, type EventQuery, type HistogramBar, type HistogramBucket } from './centralStore.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { CentralDb } from './sqliteSchema.js';
import { StoreError } from './storeError.js';
import { ceilHourMs, hourStartMs } from './sqliteHourlyCounts.js';
import { bucketMs, bucketStart, isoFormatter, localOffsetMs } from './time.js';

/** The stats windows (CentralStore.checkpointStats): a month is 30 days. */
export const statsWindowsMs = {
  lastHour: 3_600_000,
  lastDay: 86_400_000,
  lastWeek: 7 * 86_400_000,
  lastMonth: 30 * 86_400_000,
} as const;

type Windows = { lastHour: number; lastDay: number; lastWeek: number; lastMonth: number };
type WindowName = keyof Windows;
const windowNames = Object.keys(statsWindowsMs) as WindowName[];
const windowParam: Record<WindowName, string> = { lastHour: 'hour', lastDay: 'day', lastWeek: 'week', lastMonth: 'month' };

/**
 * The whole hours of the four windows, from the rollup (sqliteHourlyCounts.ts): at most 720
 * hours of one checkpoint, whatever its traffic. `@hour`..`@month` are the first whole hour
 * inside each window, `@end` the end of the last whole hour; the windows nest, so one pass.
 */
export const hourlyStatsSql = `
  SELECT @code AS code, decision,
    sum(count * (hour_ms >= @hour)) AS lastHour, sum(count * (hour_ms >= @day)) AS lastDay,
    sum(count * (hour_ms >= @week)) AS lastWeek, sum(count) AS lastMonth
  FROM checkpoint_hourly_counts
  WHERE checkpoint_code = @code AND hour_ms >= @month AND hour_ms < @end
  GROUP BY decision`;

/**
 * Events in [@from, @to) by decision: the part of an hour at a window's edge, always under an
 * hour of one checkpoint, answered from events_checkpoint alone (it carries \`decision\`).
 */
export const edgeCountsSql = `
  SELECT @code AS code, decision, count(*) AS count
  FROM events
  WHERE checkpoint_code = @code AND ts >= @from AND ts < @to
  GROUP BY decision`;

/**
 * lastDayCounts' two queries, the same as the two above for every registered checkpoint at
 * once: the IN list drives one primary-key (or events_checkpoint) range per checkpoint, so
 * neither reads outside the day's hours however long the history.
 */
export const allHourlyDaySql = `
  SELECT checkpoint_code AS code, decision, sum(count * (hour_ms >= @hour)) AS lastHour, sum(count) AS lastDay
  FROM checkpoint_hourly_counts
  WHERE checkpoint_code IN (SELECT code FROM checkpoints) AND hour_ms >= @day AND hour_ms < @end
  GROUP BY checkpoint_code, decision`;
export const allEdgeCountsSql = `
  SELECT checkpoint_code AS code, decision, count(*) AS count
  FROM events
  WHERE checkpoint_code IN (SELECT code FROM checkpoints) AND ts >= @from AND ts < @to
  GROUP BY checkpoint_code, decision`;

/**
 * Bars from the events themselves (partial hours at a range's edges) and from the rollup
 * (whole hours). The CAST truncates whether the parameters arrive bound as integers or reals;
 * times are never negative (epoch ms of real scans), so truncating floors.
 */
const barStart = (column: string) => `CAST((${column} + @offset) / @width AS INTEGER) * @width - @offset`;
export const histogramSql = `
  SELECT ${barStart('ts')} AS startMs, count(*) AS count
  FROM events
  WHERE checkpoint_code = @code AND ts >= @from AND ts < @to
  GROUP BY startMs`;
export const hourlyHistogramSql = `
  SELECT ${barStart('hour_ms')} AS startMs, sum(count) AS count
  FROM checkpoint_hourly_counts
  WHERE checkpoint_code = @code AND hour_ms >= @from AND hour_ms < @to
  GROUP BY startMs`;

/** [fromMs, toMs) as the whole hours inside it and the partial hours at its two ends. */
export function splitAtHours(fromMs: number, toMs: number): { whole: Range | null; edges: Range[] } {
  const firstWhole = ceilHourMs(fromMs);
  const endWhole = hourStartMs(toMs);
  if (firstWhole >= endWhole) return { whole: null, edges: toMs > fromMs ? [{ from: fromMs, to: toMs }] : [] };
  const edges = [
    { from: fromMs, to: firstWhole },
    { from: endWhole, to: toMs },
  ].filter((range) => range.to > range.from);
  return { whole: { from: firstWhole, to: endWhole }, edges };
}
interface Range {
  readonly from: number;
  readonly to: number;
}

/** Which filters a search uses; each combination is one SQL text and one prepared statement. */
export interface SearchShape {
  readonly checkpoint: boolean;
  readonly checkpoints: boolean;
  readonly terminal: boolean;
  readonly from: boolean;
  readonly to: boolean;
  readonly direction: boolean;
  readonly decision: boolean;
  readonly cursor: boolean;
  /** Only events of some credential refs (EventQuery.credentialRefs). */
  readonly refs: boolean;
  /** With `refs`: look them up in events_credential (a few people) rather than test each event walked (many). */
  readonly refsIndexed: boolean;
}

/**
 * Up to this many refs (a person's ID number and cards, a handful of people), their events
 * are read from events_credential and sorted: few rows however old they are. More (a unit,
 * a ward, a common name), each event walked newest first is tested against the set, which
 * stops after a page when those people scan often, as a whole unit does. The sort reads
 * every event of the refs, so past a few people it would cost more than the walk.
 */
export const maxIndexedRefs = 64;

/** The refs as one JSON array of hex, turned into the column's bytes once per query. */
const refsSet = 'SELECT unhex(value) FROM json_each(@refs)';

/**
 * Newest first by (ts, id). Every index on events ends in (ts, id) (sqliteSchema.ts), so
 * the planner walks one backwards and stops after `limit` rows; the cursor is a row-value
 * bound on the same columns.
 */
export function searchSql(shape: SearchShape): string {
  // A unary + keeps the planner off an index: with refs looked up in events_credential, that
  // index must drive (the person's few events), not a checkpoint's or terminal's many.
  const byRef = shape.refs && shape.refsIndexed ? '+' : '';
  const where = [
    shape.checkpoint && `${byRef}checkpoint_code = @checkpoint`,
    // The unary + keeps the planner off events_checkpoint here: walking it once per code
    // would need a sort to merge them newest first; the (ts, id) walk of another index stops after `limit`.
    shape.checkpoints && '+checkpoint_code IN (SELECT value FROM json_each(@checkpoints))',
    shape.terminal && `${byRef}terminal_id = @terminal`,
    shape.from && 'ts >= @from',
    shape.to && 'ts < @to',
    shape.direction && 'direction = @direction',
    shape.decision && 'decision = @decision',
    shape.cursor && '(ts, id) < (@cursorTs, @cursorId)',
    shape.refs && (shape.refsIndexed ? `credential_ref IN (${refsSet})` : `+credential_ref IN (${refsSet})`),
  ].filter((clause) => clause !== false);
  return `SELECT id, ts, received_at AS receivedAt, event FROM events
    ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY ts DESC, id DESC LIMIT @limit`;
}

type SearchParams = Record<string, string | number>;
type Params = Record<string, string | number>;
/** A row of counts for one checkpoint and decision. */
interface Counted {
  readonly code: string;
  readonly decision: string;
}
type WindowRow<W extends WindowName> = Counted & Record<W, number>;
type EdgeRow = Counted & { readonly count: number };
interface EventRow {
  readonly id: string;
  readonly ts: number;
  readonly receivedAt: number;
  readonly event: string;
}

export class SqliteEventReader {
  private readonly hourlyStats;
  private readonly edgeCounts;
  private readonly histogram;
  private readonly hourlyHistogram;
  private readonly allHourlyDay;
  private readonly allEdgeCounts;
  /** At most 2^10 shapes. */
  private readonly searches = new Map<string, Statement<SearchParams, EventRow>>();

  constructor(private readonly db: CentralDb) {
    this.hourlyStats = db.prepare<Params, WindowRow<WindowName>>(hourlyStatsSql);
    this.edgeCounts = db.prepare<Params, EdgeRow>(edgeCountsSql);
    this.allHourlyDay = db.prepare<Params, WindowRow<'lastHour' | 'lastDay'>>(allHourlyDaySql);
    this.allEdgeCounts = db.prepare<Params, EdgeRow>(allEdgeCountsSql);
    this.histogram = db.prepare<Record<string, string | number>, HistogramBar>(histogramSql);
    this.hourlyHistogram = db.prepare<Record<string, string | number>, HistogramBar>(hourlyHistogramSql);
  }

  /**
   * Counts per decision; the caller adds the checkpoint's code and name. A window is
   * (nowMs - length, nowMs], i.e. [nowMs - length + 1, nowMs + 1) in whole milliseconds: its
   * whole hours from the rollup, the rest (under an hour at each end) from events.
   */
  checkpointCounts(code: string, nowMs: number): Pick<CheckpointStats, 'lastHour' | 'lastDay' | 'lastWeek' | 'lastMonth' | 'byDecision'> {
    const zero = (): Windows => ({ lastHour: 0, lastDay: 0, lastWeek: 0, lastMonth: 0 });
    const byDecision = Object.fromEntries(decisions.map((d) => [d, zero()])) as Record<Decision, Windows>;
    this.countWindows(
      windowNames,
      nowMs,
      (params) => this.hourlyStats.all({ ...params, code }),
      (from, to) => this.edgeCounts.all({ code, from, to }),
      (_code, decision, window, count) => {
        const windows = byDecision[decision as Decision];
        if (windows !== undefined) windows[window] += count;
      },
    );
    const total = zero();
    for (const windows of Object.values(byDecision)) for (const w of windowNames) total[w] += windows[w];
    return { ...total, byDecision };
  }

  /** CentralStore.lastDayCounts for these checkpoints (every registered one), in the order given. */
  lastDayCounts(codes: readonly string[], nowMs: number): LastDayCounts[] {
    type Day = { lastHour: number; lastDay: number };
    const zero = (): Day => ({ lastHour: 0, lastDay: 0 });
    const counts = new Map(codes.map((code) => [code, Object.fromEntries(decisions.map((d) => [d, zero()])) as Record<Decision, Day>]));
    this.countWindows(
      ['lastHour', 'lastDay'] as const,
      nowMs,
      (params) => this.allHourlyDay.all(params),
      (from, to) => this.allEdgeCounts.all({ from, to }),
      (code, decision, window, count) => {
        const windows = counts.get(code)?.[decision as Decision];
        if (windows !== undefined) windows[window] += count;
      },
    );
    return codes.map((code) => {
      const byDecision = counts.get(code)!;
      const total = zero();
      for (const windows of Object.values(byDecision)) for (const w of ['lastHour', 'lastDay'] as const) total[w] += windows[w];
      return { code, ...total, byDecision };
    });
  }

  /**
   * Feeds `add` every count of the windows `names` ending at nowMs: each window's whole hours
   * from `whole` (the rollup: one column per window, `@hour`..`@month` the first whole hour
   * inside each window, `@end` the end of the last whole hour), and the partial hours at its
   * two ends from `edges` (events in [from, to)).
   */
  private countWindows<W extends WindowName>(
    names: readonly W[],
    nowMs: number,
    whole: (params: Params) => WindowRow<W>[],
    edges: (fromMs: number, toMs: number) => EdgeRow[],
    add: (code: string, decision: string, window: W, count: number) => void,
  ): void {
    const end = nowMs + 1;
    // Every window is a whole number of hours long, so each one's whole hours start at the
    // first hour boundary inside it and all end at the last boundary before `end`.
    const wholeEnd = hourStartMs(end);
    const wholeFrom = (w: W) => ceilHourMs(end - statsWindowsMs[w]);
    const params: Params = { end: wholeEnd };
    for (const w of names) params[windowParam[w]] = wholeFrom(w);
    for (const row of whole(params)) for (const w of names) add(row.code, row.decision, w, row[w]);
    const edgeRows = (fromMs: number, toMs: number) => (toMs > fromMs ? edges(fromMs, toMs) : []);
    // The partial hour before `end`, shared by the windows, then each window's partial first hour.
    const tail = edgeRows(wholeEnd, end);
    for (const w of names) {
      for (const row of tail) add(row.code, row.decision, w, row.count);
      for (const row of edgeRows(end - statsWindowsMs[w], wholeFrom(w))) add(row.code, row.decision, w, row.count);
    }
  }

  checkpointHistogram(code: string, fromMs: number, toMs: number, bucket: HistogramBucket): HistogramBar[] {
    const width = bucketMs[bucket];
    const counted = new Map<number, number>();
    const addBars = (bars: readonly HistogramBar[]) => {
      for (const bar of bars) counted.set(bar.startMs, (counted.get(bar.startMs) ?? 0) + bar.count);
    };
    // Bars are whole hours (UTC+7 days too), so a whole hour never straddles two bars.
    const { whole, edges } = splitAtHours(fromMs, toMs);
    const shape = { code, width, offset: localOffsetMs };
    if (whole !== null) addBars(this.hourlyHistogram.all({ ...shape, from: whole.from, to: whole.to }));
    for (const edge of edges) addBars(this.histogram.all({ ...shape, from: edge.from, to: edge.to }));
    const bars: HistogramBar[] = [];
    for (let start = bucketStart(fromMs, bucket); start < toMs; start += width) bars.push({ startMs: start, count: counted.get(start) ?? 0 });
    return bars;
  }

  search(query: EventQuery): EventPage {
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > maxEventsPerPage) {
      throw new StoreError('query-invalid', `limit must be a whole number from 1 to ${maxEventsPerPage}, got ${query.limit}`);
    }
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const params: SearchParams = { limit: query.limit + 1 };
    if (query.checkpoint !== undefined) params.checkpoint = query.checkpoint;
    if (query.checkpoints !== undefined) params.checkpoints = JSON.stringify(query.checkpoints);
    if (query.terminal !== undefined) params.terminal = query.terminal;
    if (query.from !== undefined) params.from = parseInstant('from', query.from);
    if (query.to !== undefined) params.to = parseInstant('to', query.to);
    if (query.direction !== undefined) params.direction = query.direction;
    if (query.decision !== undefined) params.decision = query.decision;
    if (query.credentialRefs !== undefined) params.refs = JSON.stringify(query.credentialRefs);
    if (cursor !== undefined) {
      params.cursorTs = cursor.tsMs;
      params.cursorId = cursor.id;
    }
    const rows = this.statement({
      checkpoint: query.checkpoint !== undefined,
      checkpoints: query.checkpoints !== undefined,
      terminal: query.terminal !== undefined,
      from: query.from !== undefined,
      to: query.to !== undefined,
      direction: query.direction !== undefined,
      decision: query.decision !== undefined,
      cursor: cursor !== undefined,
      refs: query.credentialRefs !== undefined,
      refsIndexed: query.credentialRefs !== undefined && query.credentialRefs.length <= maxIndexedRefs,
    }).all(params);
    // One row more than asked says whether another page exists, without a count.
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    // Rows of one ingestion batch share their receivedAt: converted once per run, and a run's
    // neighbours within the hour without a Date each. The parsed object is fresh, so
    // receivedAt is added to it rather than spread into a copy (the copy cost as much as the
    // parse; a CSV export does this a million times).
    const receivedIsoOf = isoFormatter();
    let receivedMs = Number.NaN;
    let receivedIso = '';
    return {
      events: page.map((row) => {
        if (row.receivedAt !== receivedMs) receivedIso = receivedIsoOf((receivedMs = row.receivedAt));
        const event = JSON.parse(row.event) as ScanEvent & { receivedAt: string };
        event.receivedAt = receivedIso;
        return event;
      }),
      nextCursor: rows.length > query.limit && last ? encodeCursor({ tsMs: last.ts, id: last.id }) : null,
    };
  }

  private statement(shape: SearchShape): Statement<SearchParams, EventRow> {
    const sql = searchSql(shape);
    let statement = this.searches.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare<SearchParams, EventRow>(sql);
      this.searches.set(sql, statement);
    }
    return statement;
  }
}

/** An EventQuery bound as epoch ms; shared with the PostgreSQL reader so both refuse the same input. */
export function parseInstant(name: string, iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new StoreError('query-invalid', `${name} is not an ISO 8601 time: ${JSON.stringify(iso.slice(0, 40))}`);
  return ms;
}
