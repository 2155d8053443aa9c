import type Database from 'better-sqlite3';
import type { Checkpoint, CheckpointChanges, CheckpointDirection, NewCheckpoint, NewTerminal, TerminalCredentials } from './centralStore.js';
import type { CentralDb } from './sqliteSchema.js';
import { StoreError } from './storeError.js';
import { toCredentials } from './storedListScopes.js';
import { msToIso, msToIsoOrNull } from './time.js';

/** Checkpoints and terminal credentials: written by provisioning, read by the broker's auth. */

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
  /** 0 or 1 (schema 4). */
  readonly branch: number;
}

interface TerminalRow {
  readonly terminalId: string;
  readonly checkpointCode: string;
  readonly secretHash: string;
  readonly removedAtMs: number | null;
  /** JSON array; NULL for a terminal added before schema 3 (sqliteSchema.ts). */
  readonly listScopes: string | null;
}

const checkpointColumns = `SELECT code, name, direction, confirm, created_at_ms AS createdAtMs, retired_at_ms AS retiredAtMs,
  unit, latitude, longitude, branch FROM checkpoints`;

const terminalColumns = `SELECT terminal_id AS terminalId, checkpoint_code AS checkpointCode, secret_hash AS secretHash,
  removed_at_ms AS removedAtMs, list_scopes AS listScopes FROM terminals`;

/** The columns updateCheckpoint may write, as `:name` parameters (better-sqlite3 named binding). */
const updatableColumns = { name: 'name', direction: 'direction', confirm: 'confirm', unit: 'unit', latitude: 'latitude', longitude: 'longitude', branch: 'branch' } as const;

export class SqliteRegistry {
  private readonly insertCheckpoint;
  private readonly selectCheckpoint;
  private readonly selectCheckpoints;
  private readonly insertTerminal;
  private readonly selectTerminal;
  private readonly selectTerminals;
  private readonly markRemoved;
  private readonly addTerminalTx;
  private readonly updateCheckpointTx;
  private readonly markRetired;
  private readonly replaceSecret;

  constructor(
    db: CentralDb,
    private readonly nowMs: () => number,
  ) {
    this.insertCheckpoint = db.prepare<[string, string, string, string, number, string, number | null, number | null, number]>(
      `INSERT INTO checkpoints (code, name, direction, confirm, created_at_ms, unit, latitude, longitude, branch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (code) DO NOTHING`,
    );
    this.selectCheckpoint = db.prepare<[string], CheckpointRow>(`${checkpointColumns} WHERE code = ?`);
    this.selectCheckpoints = db.prepare<[], CheckpointRow>(`${checkpointColumns} ORDER BY code`);
    this.insertTerminal = db.prepare<[string, string, string, string, number]>(
      `INSERT INTO terminals (terminal_id, checkpoint_code, secret_hash, list_scopes, created_at_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (terminal_id) DO NOTHING`,
    );
    this.selectTerminal = db.prepare<[string], TerminalRow>(`${terminalColumns} WHERE terminal_id = ?`);
    this.selectTerminals = db.prepare<[], TerminalRow>(`${terminalColumns} ORDER BY terminal_id`);
    this.markRemoved = db.prepare<[number, string]>('UPDATE terminals SET removed_at_ms = ? WHERE terminal_id = ? AND removed_at_ms IS NULL');
    this.markRetired = db.prepare<[number, string]>('UPDATE checkpoints SET retired_at_ms = ? WHERE code = ? AND retired_at_ms IS NULL');
    this.replaceSecret = db.prepare<[string, string]>('UPDATE terminals SET secret_hash = ? WHERE terminal_id = ? AND removed_at_ms IS NULL');
    // One statement per set of changed columns, prepared on first use: a few shapes at most.
    const updates = new Map<string, Database.Statement>();
    this.updateCheckpointTx = db.transaction((code: string, changes: CheckpointChanges): Checkpoint | null => {
      const row = this.selectCheckpoint.get(code);
      if (row === undefined) return null;
      if (row.retiredAtMs !== null) throw new StoreError('checkpoint-retired', `checkpoint ${code} was retired on ${msToIso(row.retiredAtMs)}`);
      const columns = (Object.keys(updatableColumns) as (keyof CheckpointChanges)[]).filter((key) => changes[key] !== undefined);
      if (columns.length > 0) {
        const sql = `UPDATE checkpoints SET ${columns.map((key) => `${updatableColumns[key]} = @${key}`).join(', ')} WHERE code = @code`;
        let statement = updates.get(sql);
        if (statement === undefined) updates.set(sql, (statement = db.prepare(sql)));
        const values = Object.fromEntries(columns.map((key) => [key, key === 'branch' ? Number(changes.branch) : changes[key]]));
        statement.run({ ...values, code });
      }
      return toCheckpoint(this.selectCheckpoint.get(code)!);
    });
    this.addTerminalTx = db.transaction((terminal: NewTerminal) => {
      if (this.selectCheckpoint.get(terminal.checkpointCode) === undefined) {
        throw new StoreError('checkpoint-unknown', `checkpoint ${terminal.checkpointCode} is not registered`);
      }
      const scopes = JSON.stringify(terminal.listScopes);
      const { changes } = this.insertTerminal.run(terminal.terminalId, terminal.checkpointCode, terminal.secretHash, scopes, this.nowMs());
      if (changes === 0) throw new StoreError('terminal-exists', `terminal ${JSON.stringify(terminal.terminalId)} already exists`);
    });
  }

  createCheckpoint(checkpoint: NewCheckpoint): Checkpoint {
    const createdAtMs = this.nowMs();
    const { code, name, direction, confirm, unit = '', latitude = null, longitude = null, branch = false } = checkpoint;
    const { changes } = this.insertCheckpoint.run(code, name, direction, confirm, createdAtMs, unit, latitude, longitude, branch ? 1 : 0);
    if (changes === 0) throw new StoreError('checkpoint-exists', `checkpoint ${code} already exists`);
    return { code, name, direction, confirm, unit, latitude, longitude, branch, createdAt: msToIso(createdAtMs), retiredAt: null };
  }

  updateCheckpoint(code: string, changes: CheckpointChanges): Checkpoint | null {
    // IMMEDIATE: the retired check and the write must see the same row, with `retire` running elsewhere.
    return this.updateCheckpointTx.immediate(code, changes);
  }

  /** True when retired by this call; false if unknown or already retired. */
  retireCheckpoint(code: string): boolean {
    return this.markRetired.run(this.nowMs(), code).changes > 0;
  }

  /** True when replaced; false if the terminal is unknown or removed. */
  setTerminalSecret(terminalId: string, secretHash: string): boolean {
    return this.replaceSecret.run(secretHash, terminalId).changes > 0;
  }

  getCheckpoint(code: string): Checkpoint | null {
    const row = this.selectCheckpoint.get(code);
    return row === undefined ? null : toCheckpoint(row);
  }

  listCheckpoints(): Checkpoint[] {
    return this.selectCheckpoints.all().map(toCheckpoint);
  }

  addTerminal(terminal: NewTerminal): void {
    // IMMEDIATE: the checkpoint read and the insert must see the same database, even with
    // the CLI and the central writing to the file at once.
    this.addTerminalTx.immediate(terminal);
  }

  getTerminalCredentials(terminalId: string): TerminalCredentials | null {
    const row = this.selectTerminal.get(terminalId);
    return row === undefined ? null : terminalCredentials(row);
  }

  listTerminalCredentials(): TerminalCredentials[] {
    return this.selectTerminals.all().map(terminalCredentials);
  }

  /** True when the terminal was removed by this call; false if unknown or already removed. */
  removeTerminal(terminalId: string): boolean {
    return this.markRemoved.run(this.nowMs(), terminalId).changes > 0;
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
    branch: row.branch === 1,
    createdAt: msToIso(row.createdAtMs),
    retiredAt: msToIsoOrNull(row.retiredAtMs),
  };
}

/** SQLite keeps the scopes as JSON text; the shared mapper takes them parsed. */
function terminalCredentials(row: TerminalRow): TerminalCredentials {
  return toCredentials({ ...row, listScopes: row.listScopes === null ? null : (JSON.parse(row.listScopes) as unknown) });
}
