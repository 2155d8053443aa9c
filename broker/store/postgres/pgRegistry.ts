import type pg from 'pg';
import type { Checkpoint, CheckpointChanges, CheckpointDirection, NewCheckpoint, NewTerminal, TerminalCredentials } from '../centralStore.js';
import { StoreError } from '../storeError.js';
import { toCredentials, type StoredTerminalRow as TerminalRow } from '../storedListScopes.js';
import { msToIso, msToIsoOrNull } from '../time.js';
import { inTransaction } from './pgDb.js';

/** Checkpoints and terminal credentials on PostgreSQL, as sqliteRegistry.ts. */

interface CheckpointRow {
  readonly code: string;
  readonly name: string;
  readonly direction: CheckpointDirection;
  readonly confirm: 'auto' | 'manual';
  readonly createdAtMs: number;
  readonly retiredAtMs: number | null;
  readonly unit: string;
  readonly latitude: number | null;
  readonly longitude: number | null;
  readonly branch: boolean;
}

const checkpointColumns = `SELECT code, name, direction, confirm, created_at_ms AS "createdAtMs", retired_at_ms AS "retiredAtMs",
  unit, latitude, longitude, branch FROM checkpoints`;

/** The columns updateCheckpoint may write. */
const updatableColumns = ['name', 'direction', 'confirm', 'unit', 'latitude', 'longitude', 'branch'] as const satisfies readonly (keyof CheckpointChanges)[];

export class PgRegistry {
  constructor(
    private readonly pool: pg.Pool,
    private readonly nowMs: () => number,
  ) {}

  async createCheckpoint(checkpoint: NewCheckpoint): Promise<Checkpoint> {
    const createdAtMs = this.nowMs();
    const { code, name, direction, confirm, unit = '', latitude = null, longitude = null, branch = false } = checkpoint;
    const { rowCount } = await this.pool.query(
      `INSERT INTO checkpoints (code, name, direction, confirm, created_at_ms, unit, latitude, longitude, branch)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (code) DO NOTHING`,
      [code, name, direction, confirm, createdAtMs, unit, latitude, longitude, branch],
    );
    if (rowCount === 0) throw new StoreError('checkpoint-exists', `checkpoint ${code} already exists`);
    return { code, name, direction, confirm, unit, latitude, longitude, branch, createdAt: msToIso(createdAtMs), retiredAt: null };
  }

  async getCheckpoint(code: string): Promise<Checkpoint | null> {
    const { rows } = await this.pool.query<CheckpointRow>(`${checkpointColumns} WHERE code = $1`, [code]);
    return rows[0] === undefined ? null : toCheckpoint(rows[0]);
  }

  async listCheckpoints(): Promise<Checkpoint[]> {
    return (await this.pool.query<CheckpointRow>(`${checkpointColumns} ORDER BY code COLLATE "C"`)).rows.map(toCheckpoint);
  }

  async updateCheckpoint(code: string, changes: CheckpointChanges): Promise<Checkpoint | null> {
    // FOR UPDATE: the retired check and the write see the same row, with `retire` running elsewhere.
    return inTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query<CheckpointRow>(`${checkpointColumns} WHERE code = $1 FOR UPDATE`, [code]);
      const row = rows[0];
      if (row === undefined) return null;
      if (row.retiredAtMs !== null) throw new StoreError('checkpoint-retired', `checkpoint ${code} was retired on ${msToIso(row.retiredAtMs)}`);
      const columns = updatableColumns.filter((key) => changes[key] !== undefined);
      if (columns.length === 0) return toCheckpoint(row);
      const { rows: updated } = await tx.query<CheckpointRow>(
        `UPDATE checkpoints SET ${columns.map((column, i) => `${column} = $${i + 2}`).join(', ')} WHERE code = $1
         RETURNING code, name, direction, confirm, created_at_ms AS "createdAtMs", retired_at_ms AS "retiredAtMs", unit, latitude, longitude, branch`,
        [code, ...columns.map((key) => changes[key])],
      );
      return toCheckpoint(updated[0]!);
    });
  }

  async retireCheckpoint(code: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('UPDATE checkpoints SET retired_at_ms = $1 WHERE code = $2 AND retired_at_ms IS NULL', [this.nowMs(), code]);
    return (rowCount ?? 0) > 0;
  }

  async addTerminal(terminal: NewTerminal): Promise<void> {
    // One statement: the checkpoint must exist (checked first, as SQLite does) and the id be free.
    const { rows } = await this.pool.query<{ known: boolean; added: boolean }>(
      `WITH checkpoint AS (SELECT 1 FROM checkpoints WHERE code = $2),
       added AS (
         INSERT INTO terminals (terminal_id, checkpoint_code, secret_hash, list_scopes, created_at_ms)
         SELECT $1, $2, $3, $4::jsonb, $5 WHERE EXISTS (SELECT 1 FROM checkpoint)
         ON CONFLICT (terminal_id) DO NOTHING RETURNING 1
       )
       SELECT EXISTS (SELECT 1 FROM checkpoint) AS known, EXISTS (SELECT 1 FROM added) AS added`,
      [terminal.terminalId, terminal.checkpointCode, terminal.secretHash, JSON.stringify(terminal.listScopes), this.nowMs()],
    );
    if (!rows[0]!.known) throw new StoreError('checkpoint-unknown', `checkpoint ${terminal.checkpointCode} is not registered`);
    if (!rows[0]!.added) throw new StoreError('terminal-exists', `terminal ${JSON.stringify(terminal.terminalId)} already exists`);
  }

  async getTerminalCredentials(terminalId: string): Promise<TerminalCredentials | null> {
    const { rows } = await this.pool.query<TerminalRow>(`${terminalColumns} WHERE terminal_id = $1`, [terminalId]);
    const row = rows[0];
    return row === undefined ? null : toCredentials(row);
  }

  /** Every terminal, removed ones included, by id: the revocation watcher's one read per pass. */
  async listTerminalCredentials(): Promise<TerminalCredentials[]> {
    const { rows } = await this.pool.query<TerminalRow>(`${terminalColumns} ORDER BY terminal_id`);
    return rows.map(toCredentials);
  }

  async removeTerminal(terminalId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('UPDATE terminals SET removed_at_ms = $1 WHERE terminal_id = $2 AND removed_at_ms IS NULL', [this.nowMs(), terminalId]);
    return (rowCount ?? 0) > 0;
  }

  async setTerminalSecret(terminalId: string, secretHash: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('UPDATE terminals SET secret_hash = $1 WHERE terminal_id = $2 AND removed_at_ms IS NULL', [secretHash, terminalId]);
    return (rowCount ?? 0) > 0;
  }
}

function toCheckpoint(row: CheckpointRow): Checkpoint {
  return {
    code: row.code,
    name: row.name,
    direction: row.direction,
    confirm: row.confirm,
    unit: row.unit,
    latitude: row.latitude,
    longitude: row.longitude,
    branch: row.branch,
    createdAt: msToIso(row.createdAtMs),
    retiredAt: msToIsoOrNull(row.retiredAtMs),
  };
}


const terminalColumns = `SELECT terminal_id AS "terminalId", checkpoint_code AS "checkpointCode", secret_hash AS "secretHash",
  removed_at_ms AS "removedAtMs", list_scopes AS "listScopes" FROM terminals`;

