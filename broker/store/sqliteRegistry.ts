import { z } from 'zod';
import { listScopeSchema } from '../../protocol/lists/index.js';
import type { Checkpoint, CheckpointDirection, NewTerminal, TerminalCredentials } from './centralStore.js';
import type { CentralDb } from './sqliteSchema.js';
import { StoreError } from './storeError.js';
import { msToIso, msToIsoOrNull } from './time.js';

/** Checkpoints and terminal credentials: written by provisioning, read by the broker's auth. */

interface CheckpointRow {
  readonly code: string;
  readonly name: string;
  readonly direction: CheckpointDirection;
  readonly confirm: 'auto' | 'manual';
  readonly createdAtMs: number;
  readonly retiredAtMs: number | null;
}

interface TerminalRow {
  readonly terminalId: string;
  readonly checkpointCode: string;
  readonly secretHash: string;
  readonly removedAtMs: number | null;
  /** JSON array; NULL for a terminal added before schema 3 (sqliteSchema.ts). */
  readonly listScopes: string | null;
}

/**
 * The scopes become ACL entries: read back through the same schema a terminal's config
 * uses, so a hand-edited row fails the connect (CONNACK 3) instead of widening the ACL.
 */
const storedScopesSchema = z.array(listScopeSchema);

const checkpointColumns = `SELECT code, name, direction, confirm, created_at_ms AS createdAtMs, retired_at_ms AS retiredAtMs FROM checkpoints`;

export class SqliteRegistry {
  private readonly insertCheckpoint;
  private readonly selectCheckpoint;
  private readonly selectCheckpoints;
  private readonly insertTerminal;
  private readonly selectTerminal;
  private readonly markRemoved;
  private readonly addTerminalTx;

  constructor(
    db: CentralDb,
    private readonly nowMs: () => number,
  ) {
    this.insertCheckpoint = db.prepare<[string, string, string, string, number]>(
      `INSERT INTO checkpoints (code, name, direction, confirm, created_at_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING`,
    );
    this.selectCheckpoint = db.prepare<[string], CheckpointRow>(`${checkpointColumns} WHERE code = ?`);
    this.selectCheckpoints = db.prepare<[], CheckpointRow>(`${checkpointColumns} ORDER BY code`);
    this.insertTerminal = db.prepare<[string, string, string, string, number]>(
      `INSERT INTO terminals (terminal_id, checkpoint_code, secret_hash, list_scopes, created_at_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (terminal_id) DO NOTHING`,
    );
    this.selectTerminal = db.prepare<[string], TerminalRow>(
      `SELECT terminal_id AS terminalId, checkpoint_code AS checkpointCode, secret_hash AS secretHash, removed_at_ms AS removedAtMs,
              list_scopes AS listScopes
       FROM terminals WHERE terminal_id = ?`,
    );
    this.markRemoved = db.prepare<[number, string]>('UPDATE terminals SET removed_at_ms = ? WHERE terminal_id = ? AND removed_at_ms IS NULL');
    this.addTerminalTx = db.transaction((terminal: NewTerminal) => {
      if (this.selectCheckpoint.get(terminal.checkpointCode) === undefined) {
        throw new StoreError('checkpoint-unknown', `checkpoint ${terminal.checkpointCode} is not registered`);
      }
      const scopes = JSON.stringify(terminal.listScopes);
      const { changes } = this.insertTerminal.run(terminal.terminalId, terminal.checkpointCode, terminal.secretHash, scopes, this.nowMs());
      if (changes === 0) throw new StoreError('terminal-exists', `terminal ${JSON.stringify(terminal.terminalId)} already exists`);
    });
  }

  createCheckpoint(checkpoint: Omit<Checkpoint, 'createdAt' | 'retiredAt'>): Checkpoint {
    const createdAtMs = this.nowMs();
    const { changes } = this.insertCheckpoint.run(checkpoint.code, checkpoint.name, checkpoint.direction, checkpoint.confirm, createdAtMs);
    if (changes === 0) throw new StoreError('checkpoint-exists', `checkpoint ${checkpoint.code} already exists`);
    return { code: checkpoint.code, name: checkpoint.name, direction: checkpoint.direction, confirm: checkpoint.confirm, createdAt: msToIso(createdAtMs), retiredAt: null };
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
    if (row === undefined) return null;
    return {
      terminalId: row.terminalId,
      checkpointCode: row.checkpointCode,
      secretHash: row.secretHash,
      removedAt: msToIsoOrNull(row.removedAtMs),
      listScopes: row.listScopes === null ? null : parseScopes(row.terminalId, row.listScopes),
    };
  }

  /** True when the terminal was removed by this call; false if unknown or already removed. */
  removeTerminal(terminalId: string): boolean {
    return this.markRemoved.run(this.nowMs(), terminalId).changes > 0;
  }
}

function parseScopes(terminalId: string, json: string): string[] {
  const parsed = storedScopesSchema.safeParse(JSON.parse(json));
  if (!parsed.success) throw new Error(`terminal ${terminalId}: stored list scopes ${json} are not list scopes`);
  return parsed.data;
}

function toCheckpoint(row: CheckpointRow): Checkpoint {
  return {
    code: row.code,
    name: row.name,
    direction: row.direction,
    confirm: row.confirm,
    createdAt: msToIso(row.createdAtMs),
    retiredAt: msToIsoOrNull(row.retiredAtMs),
  };
}
