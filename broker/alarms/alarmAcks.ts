import type { AuditChange } from '../access/audit.js';
import { placeholders, type RegistryDb } from '../store/sql/registryDb.js';
import { msToIso } from '../store/time.js';
import type { Alarm } from './alarms.js';

/**
 * Acknowledgements of alarms, kept at the central (table `alarm_acks`): who, when and the
 * note they wrote. Keyed by the alarm's id, which names one occurrence (alarms.ts), so an
 * acknowledged alarm that clears and happens again is new again. Rows of alarms long gone are
 * kept: they are a few bytes each and the audit log refers to them.
 */

/** Long enough for "called the site, technician on the way, disk replaced tomorrow"; short enough for a table cell. */
export const maxAlarmNoteLength = 500;

export interface AlarmAck {
  /** `user:lan`, `token:…`: the principal, as the audit log names it. */
  readonly by: string;
  readonly at: string;
  readonly note: string;
}

export type AckOutcome = { readonly ok: true; readonly ack: AlarmAck } | { readonly ok: false; readonly reason: 'already-acknowledged'; readonly ack: AlarmAck };

interface AckRow {
  readonly alarmId: string;
  readonly by: string;
  readonly atMs: number;
  readonly note: string;
}

const toAck = (row: AckRow): AlarmAck => ({ by: row.by, at: msToIso(row.atMs), note: row.note });

/** The acknowledgements of these alarm ids that exist. */
export async function alarmAcks(db: RegistryDb, alarmIds: readonly string[]): Promise<Map<string, AlarmAck>> {
  const acks = new Map<string, AlarmAck>();
  // In slices: an IN list of thousands of parameters is past what either engine binds comfortably.
  for (let start = 0; start < alarmIds.length; start += 500) {
    const ids = alarmIds.slice(start, start + 500);
    const rows = await db.all<AckRow>(
      `SELECT alarm_id AS "alarmId", acknowledged_by AS "by", acknowledged_at_ms AS "atMs", note FROM alarm_acks WHERE alarm_id IN (${placeholders(ids.length)})`,
      ids,
    );
    for (const row of rows) acks.set(row.alarmId, toAck(row));
  }
  return acks;
}

/**
 * Records an acknowledgement; the first one stands (two operators pressing at once: the
 * second learns who was first). `note` is trimmed and 1..maxAlarmNoteLength long: the caller validates it.
 */
export async function acknowledgeAlarm(db: RegistryDb, alarm: Pick<Alarm, 'id' | 'kind'>, by: string, note: string, nowMs: number): Promise<AckOutcome> {
  const inserted = await db.run(
    'INSERT INTO alarm_acks (alarm_id, kind, acknowledged_by, acknowledged_at_ms, note) VALUES (?, ?, ?, ?, ?) ON CONFLICT (alarm_id) DO NOTHING',
    [alarm.id, alarm.kind, by, nowMs, note],
  );
  const ack = (await alarmAcks(db, [alarm.id])).get(alarm.id)!;
  return inserted === 1 ? { ok: true, ack } : { ok: false, reason: 'already-acknowledged', ack };
}

/**
 * The audit entry: the target is what the alarm is about (a terminal, or a list's scope), as an
 * operator searches for it; the alarm's id, kind and the note (operators write it for each other) are in details.
 */
export function alarmAcknowledged(alarm: Alarm, note: string): AuditChange {
  return { action: 'alarm.acknowledge', target: alarm.subject.terminalId ?? alarm.subject.scope ?? '', details: { alarm: alarm.id, kind: alarm.kind, ...alarm.subject, since: alarm.since, note } };
}
