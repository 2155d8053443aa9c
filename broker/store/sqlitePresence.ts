import type { ScanEvent } from '../../protocol/event.js';
import type { InsidePassage } from './centralStore.js';
import type { CentralDb } from './sqliteSchema.js';
import { msToIso } from './time.js';

/**
 * Who is inside now (issue 14 page 5): the `presence` table keeps each credential ref's last
 * passage (sqliteSchema.ts), written in the same transaction as the events, so "inside" is an
 * index range over the people who passed within the expiry window, never a walk over events.
 */

/** A granted scan of a known credential that the passage sensor did not deny: a person went through. */
export function isPassage(event: ScanEvent): boolean {
  return event.decision === 'granted' && event.credentialRef !== null && event.reason !== 'remote-open' && event.passed !== false;
}

/**
 * A passage replaces the stored one only when it is newer by the terminal's clock: late
 * events (an outbox drained after an outage) must not reopen an "inside" a later exit closed.
 */
const recordSql = `
  INSERT INTO presence (ref, direction, ts, checkpoint_code, event_id) VALUES (unhex(@ref), @direction, @ts, @checkpoint, @id)
  ON CONFLICT (ref) DO UPDATE SET direction = excluded.direction, ts = excluded.ts, checkpoint_code = excluded.checkpoint_code, event_id = excluded.event_id
  WHERE excluded.ts > presence.ts`;

/**
 * A person may pass with their ID card one way and their qrgate card the other: refs of one
 * registered member are one person (the same joins as membersByRefs), and only that person's
 * newest passage counts. presence_ts bounds the rows read to the window; each is then one
 * probe of members' unique id_ref and of cards' primary key.
 */
export const insideSql = `
  WITH recent AS (
    SELECT p.ref, p.direction, p.ts, p.checkpoint_code, p.event_id, coalesce(m.member_id, c.member_id) AS member_id
    FROM presence p
    LEFT JOIN members m ON m.id_ref = p.ref
    LEFT JOIN cards c ON c.card_ref = p.ref
    WHERE p.ts > @since
  ), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY coalesce(member_id, ref) ORDER BY ts DESC) AS newest FROM recent
  )
  SELECT lower(hex(ref)) AS ref, ts, checkpoint_code AS checkpointCode, event_id AS eventId
  FROM ranked WHERE newest = 1 AND direction = 'in'
  ORDER BY ts DESC`;

/** Never moves a row back in time: a clock running ahead at the gate keeps its order. */
const takeOutSql = `
  UPDATE presence SET direction = 'out', ts = max(ts + 1, @at), checkpoint_code = '', event_id = NULL
  WHERE ref = unhex(@ref) AND direction = 'in'`;

const hexRef = /^[0-9a-f]{64}$/;

export class SqlitePresence {
  private readonly recordStatement;
  private readonly insideStatement;
  private readonly takeOutStatement;

  constructor(db: CentralDb) {
    this.recordStatement = db.prepare<{ ref: string; direction: string; ts: number; checkpoint: string; id: string }>(recordSql);
    this.insideStatement = db.prepare<{ since: number }, { ref: string; ts: number; checkpointCode: string; eventId: string }>(insideSql);
    this.takeOutStatement = db.prepare<{ ref: string; at: number }>(takeOutSql);
  }

  /** Inside the event writer's transaction, for each newly stored event. */
  record(event: ScanEvent, tsMs: number): void {
    if (!isPassage(event)) return;
    this.recordStatement.run({ ref: event.credentialRef!, direction: event.direction, ts: tsMs, checkpoint: event.checkpointCode, id: event.id });
  }

  inside(sinceMs: number): InsidePassage[] {
    return this.insideStatement.all({ since: sinceMs }).map((row) => ({ ref: row.ref, since: msToIso(row.ts), checkpointCode: row.checkpointCode, eventId: row.eventId }));
  }

  takeOut(ref: string, atMs: number): boolean {
    if (!hexRef.test(ref)) return false;
    return this.takeOutStatement.run({ ref, at: atMs }).changes > 0;
  }
}
