import type { RegistryDb } from '../store/sql/registryDb.js';
import { msToIso } from '../store/time.js';

/**
 * Roll calls for an evacuation (issue 14 page 5): per checkpoint unit, the newest roll call
 * is the current one; starting another starts from nobody marked. Marks are kept at the
 * central with who marked, so two guards with phones see each other's. Database functions
 * like the audit log's (broker/access/audit.ts): the console and the API share them.
 */

export interface RollCall {
  readonly id: number;
  /** The checkpoint unit it is for; '' for checkpoints with no unit. */
  readonly unit: string;
  readonly startedAt: string;
  /** As the audit log names actors (`user:lan`). */
  readonly startedBy: string;
}

export interface SafeMark {
  readonly at: string;
  readonly by: string;
}

interface RollCallRow {
  readonly id: number;
  readonly unit: string;
  readonly startedAtMs: number;
  readonly startedBy: string;
}

const toRollCall = (row: RollCallRow): RollCall => ({ id: row.id, unit: row.unit, startedAt: msToIso(row.startedAtMs), startedBy: row.startedBy });

const selectRollCall = 'SELECT id, unit, started_at_ms AS "startedAtMs", started_by AS "startedBy" FROM roll_calls';

export async function startRollCall(db: RegistryDb, unit: string, by: string, atMs: number): Promise<RollCall> {
  const id = (await db.value<number>('INSERT INTO roll_calls (unit, started_at_ms, started_by) VALUES (?, ?, ?) RETURNING id', [unit, atMs, by]))!;
  return { id, unit, startedAt: msToIso(atMs), startedBy: by };
}

/** The current roll call of each of these units that has one (roll_calls_unit: one probe each). */
export async function currentRollCalls(db: RegistryDb, units: readonly string[]): Promise<Map<string, RollCall>> {
  const found = new Map<string, RollCall>();
  for (const unit of new Set(units)) {
    const row = await db.get<RollCallRow>(`${selectRollCall} WHERE unit = ? ORDER BY id DESC LIMIT 1`, [unit]);
    if (row !== undefined) found.set(unit, toRollCall(row));
  }
  return found;
}

export async function rollCallById(db: RegistryDb, id: number): Promise<RollCall | null> {
  const row = await db.get<RollCallRow>(`${selectRollCall} WHERE id = ?`, [id]);
  return row === undefined ? null : toRollCall(row);
}

/** True when marked now; false when someone had already marked this person in this roll call (their mark stands). */
export async function markSafe(db: RegistryDb, rollCallId: number, ref: string, by: string, atMs: number): Promise<boolean> {
  return (await db.run('INSERT INTO roll_call_marks (roll_call_id, ref, marked_at_ms, marked_by) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [rollCallId, ref, atMs, by])) > 0;
}

export async function marksOf(db: RegistryDb, rollCallId: number): Promise<Map<string, SafeMark>> {
  const rows = await db.all<{ ref: string; atMs: number; by: string }>(
    'SELECT ref, marked_at_ms AS "atMs", marked_by AS "by" FROM roll_call_marks WHERE roll_call_id = ?',
    [rollCallId],
  );
  return new Map(rows.map((row) => [row.ref, { at: msToIso(row.atMs), by: row.by }]));
}
