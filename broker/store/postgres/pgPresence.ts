import type pg from 'pg';
import type { ScanEvent } from '../../../protocol/event.js';
import type { InsidePassage } from '../centralStore.js';
import { isPassage } from '../sqlitePresence.js';
import { msToIso } from '../time.js';

/**
 * Who is inside now on PostgreSQL: the semantics of sqlitePresence.ts. A passage replaces a
 * ref's stored one only when it is newer by the terminal's clock; an operator's take-out never
 * moves a row back in time.
 */

export interface Passage {
  readonly ref: string;
  readonly direction: string;
  readonly tsMs: number;
  readonly checkpointCode: string;
  readonly eventId: string;
}

/**
 * A batch's passages reduced to one per ref, the one SQLite's row-by-row upserts would leave:
 * the newest by ts, the first of equal ones. One row per ref lets one statement upsert them
 * all, and sorting by ref takes their row locks in one global order (no deadlock between two
 * writers' batches).
 */
export function newestPassages(events: readonly ScanEvent[], tsMs: readonly number[]): Passage[] {
  const byRef = new Map<string, Passage>();
  events.forEach((e, i) => {
    if (!isPassage(e)) return;
    const ts = tsMs[i]!;
    const held = byRef.get(e.credentialRef!);
    if (held !== undefined && ts <= held.tsMs) return;
    byRef.set(e.credentialRef!, { ref: e.credentialRef!, direction: e.direction, tsMs: ts, checkpointCode: e.checkpointCode, eventId: e.id });
  });
  return [...byRef.values()].sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
}

/** The upsert of a batch's passages, its five arrays bound from `$first` on (a statement of its own or a writer's last clause). */
export function recordPassagesSql(first: number): string {
  const [r, d, t, c, e] = [0, 1, 2, 3, 4].map((i) => `$${first + i}`);
  return `
  INSERT INTO presence (ref, direction, ts, checkpoint_code, event_id)
  SELECT decode(r, 'hex'), d, t, c, e FROM unnest(${r}::text[], ${d}::text[], ${t}::bigint[], ${c}::text[], ${e}::uuid[]) AS u(r, d, t, c, e)
  ON CONFLICT (ref) DO UPDATE SET direction = excluded.direction, ts = excluded.ts, checkpoint_code = excluded.checkpoint_code, event_id = excluded.event_id
  WHERE excluded.ts > presence.ts`;
}

/** The passages as the five arrays recordPassagesSql binds. */
export function passageColumns(passages: readonly Passage[]): unknown[] {
  return [
    passages.map((p) => p.ref),
    passages.map((p) => p.direction),
    passages.map((p) => p.tsMs),
    passages.map((p) => p.checkpointCode),
    passages.map((p) => p.eventId),
  ];
}

/** As sqlitePresence.ts's insideSql: the refs of one registered member are one person. */
export const pgInsideSql = `
  WITH recent AS (
    SELECT p.ref, p.direction, p.ts, p.checkpoint_code, p.event_id, coalesce(m.member_id, c.member_id) AS member_id
    FROM presence p
    LEFT JOIN members m ON m.id_ref = p.ref
    LEFT JOIN cards c ON c.card_ref = p.ref
    WHERE p.ts > $1
  ), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY coalesce(member_id::text, encode(ref, 'hex')) ORDER BY ts DESC) AS newest FROM recent
  )
  SELECT encode(ref, 'hex') AS ref, ts, checkpoint_code AS "checkpointCode", event_id::text AS "eventId"
  FROM ranked WHERE newest = 1 AND direction = 'in'
  ORDER BY ts DESC`;

const takeOutSql = `
  UPDATE presence SET direction = 'out', ts = greatest(ts + 1, $2), checkpoint_code = '', event_id = NULL
  WHERE ref = decode($1, 'hex') AND direction = 'in'`;

const hexRef = /^[0-9a-f]{64}$/;

export class PgPresence {
  constructor(private readonly pool: pg.Pool) {}

  async inside(sinceMs: number): Promise<InsidePassage[]> {
    const { rows } = await this.pool.query<{ ref: string; ts: number; checkpointCode: string; eventId: string }>(pgInsideSql, [sinceMs]);
    return rows.map((row) => ({ ref: row.ref, since: msToIso(row.ts), checkpointCode: row.checkpointCode, eventId: row.eventId }));
  }

  async takeOut(ref: string, atMs: number): Promise<boolean> {
    if (!hexRef.test(ref)) return false;
    return ((await this.pool.query(takeOutSql, [ref, atMs])).rowCount ?? 0) > 0;
  }
}
