import type pg from 'pg';

/**
 * Monthly partitions of `events` (pgSchema.ts), by the terminal's `ts` in UTC months. Made
 * ahead at migrate (this month and the next) and on demand before an insert that needs one:
 * a terminal whose clock says 1970 (a Pi booted without network) still gets its events
 * stored, in a partition of their own. No DEFAULT partition: a month's rows in it would stop
 * that month's partition from ever being created.
 */

/** The first millisecond of the UTC month holding `ms`. */
export function monthStartMs(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function nextMonthMs(monthStart: number): number {
  const d = new Date(monthStart);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** `events_p202505`: sortable, and what a retention job drops. */
export function partitionName(monthStart: number): string {
  const d = new Date(monthStart);
  return `events_p${String(d.getUTCFullYear()).padStart(4, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** PostgreSQL's "no partition of relation found for row": a partition dropped behind a cache's back. */
export const noPartitionErrorCode = '23514';

/** The transaction advisory lock under which partitions are made and dropped (one schema's). */
export const partitionsLockSql = `SELECT pg_advisory_xact_lock(hashtext('qrgate.partitions.' || current_schema()))`;

/**
 * Creates the partitions holding these instants that do not exist yet, under a transaction
 * advisory lock so two stores creating the same month cannot race (CREATE TABLE IF NOT EXISTS
 * alone can still fail on a concurrent catalog insert). Returns the month starts that exist.
 */
export async function ensureMonthPartitions(client: pg.ClientBase, instantsMs: Iterable<number>): Promise<number[]> {
  const months = [...new Set([...instantsMs].map(monthStartMs))].sort((a, b) => a - b);
  if (months.length === 0) return months;
  const names = months.map(partitionName);
  const { rows } = await client.query<{ name: string }>('SELECT name FROM unnest($1::text[]) AS name WHERE to_regclass(name) IS NULL', [names]);
  if (rows.length === 0) return months;
  await client.query('BEGIN');
  try {
    await makePartitionsLocked(client, months.filter((month) => rows.some((row) => row.name === partitionName(month))));
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
  return months;
}

/**
 * Inside the caller's transaction: takes the partitions lock (held to its end, so retention
 * cannot drop these months before it commits) and makes the months' missing partitions.
 */
export async function makePartitionsLocked(tx: pg.ClientBase, instantsMs: Iterable<number>): Promise<void> {
  await tx.query(partitionsLockSql);
  for (const month of new Set([...instantsMs].map(monthStartMs))) {
    // Bounds are integers computed here, never text from outside.
    await tx.query(`CREATE TABLE IF NOT EXISTS ${partitionName(month)} PARTITION OF events FOR VALUES FROM (${month}) TO (${nextMonthMs(month)})`);
  }
}

/** The months this store knows have a partition, so the hot path asks the catalog once a month. */
export class KnownPartitions {
  private readonly months = new Set<number>();

  /** The instants whose month this store has not seen partitioned yet. */
  unknown(instantsMs: readonly number[]): number[] {
    return instantsMs.filter((ms) => !this.months.has(monthStartMs(ms)));
  }

  /** Makes sure every month of these instants has a partition: one catalog query, and DDL only for a missing one. */
  async ensure(client: pg.ClientBase, instantsMs: readonly number[]): Promise<void> {
    const unknown = this.unknown(instantsMs);
    if (unknown.length === 0) return;
    for (const month of await ensureMonthPartitions(client, unknown)) this.months.add(month);
  }

  /** After a "no partition" error: a partition was dropped (retention) since it was cached. */
  forget(): void {
    this.months.clear();
  }
}

const partitionNamePattern = /^events_p(\d{4})(\d{2})$/;

/** The UTC month a partition named by partitionName holds, [startMs, endMs); null for any other table. */
export function partitionMonth(name: string): { readonly startMs: number; readonly endMs: number } | null {
  const match = partitionNamePattern.exec(name);
  if (match === null) return null;
  const startMs = Date.UTC(Number(match[1]), Number(match[2]) - 1, 1);
  return { startMs, endMs: nextMonthMs(startMs) };
}

/** The partitions of `events` in the session's schema, by name (the month order). */
export async function listPartitions(client: pg.ClientBase): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass ORDER BY 1`,
  );
  return rows.map((row) => row.name);
}
