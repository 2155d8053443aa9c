import { toTerminalCommand, type CommandRow as SharedCommandRow } from '../commandRow.js';
import type pg from 'pg';
import type { CommandAck } from '../../../protocol/messages.js';
import { maxOpenCommands, type NewTerminalCommand, type OpenCommandsFilter, type TerminalCommand } from '../centralStore.js';
import { StoreError } from '../storeError.js';

/**
 * The command queue on PostgreSQL (table `terminal_commands`, pgSchema.ts migration 2): the
 * semantics of sqliteCommands.ts. Every central node polls it, so it is written to be right
 * with several at once: a second ack of one command (two nodes relaying copies) waits on the
 * first's row lock, then finds `acked_at_ms` set and changes nothing; only the first counts.
 */

type CommandRow = SharedCommandRow<NewTerminalCommand['fields']>;

const columns = `id, terminal_id AS "terminalId", checkpoint_code AS "checkpointCode", name, fields, issued_at_ms AS "issuedAtMs",
  expires_at_ms AS "expiresAtMs", issued_by AS "issuedBy", attempts, last_sent_at_ms AS "lastSentAtMs", ack_outcome AS "ackOutcome",
  ack_reason AS "ackReason", ack_event_id AS "ackEventId", ack_terminal_at AS "ackTerminalAt", acked_at_ms AS "ackedAtMs"`;

const insertSql = `
  INSERT INTO terminal_commands (id, terminal_id, checkpoint_code, name, fields, issued_at_ms, expires_at_ms, issued_by)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT (id) DO NOTHING`;

const markSentSql = 'UPDATE terminal_commands SET attempts = attempts + 1, last_sent_at_ms = $2 WHERE id = $1';

const recordAckSql = `
  UPDATE terminal_commands SET ack_outcome = $3, ack_reason = $4, ack_event_id = $5, ack_terminal_at = $6, acked_at_ms = $7
  WHERE id = $1 AND terminal_id = $2 AND acked_at_ms IS NULL`;

const toCommand = (row: CommandRow): TerminalCommand => toTerminalCommand(row, row.fields);

export class PgCommands {
  constructor(private readonly pool: pg.Pool) {}

  async queue(command: NewTerminalCommand): Promise<void> {
    const c = command;
    const inserted = await this.pool.query(insertSql, [c.id, c.terminalId, c.checkpointCode, c.name, JSON.stringify(c.fields), c.issuedAtMs, c.expiresAtMs, c.issuedBy]);
    if (inserted.rowCount === 0) throw new StoreError('command-exists', `a command with id ${command.id} is queued already`);
  }

  async get(id: string): Promise<TerminalCommand | null> {
    const { rows } = await this.pool.query<CommandRow>(`SELECT ${columns} FROM terminal_commands WHERE id = $1`, [id]);
    return rows[0] === undefined ? null : toCommand(rows[0]);
  }

  /**
   * `acked_at_ms IS NULL` as the partial indexes have it, and only the conditions the filter
   * gives (rather than `$n IS NULL OR …`), so each shape's plan can use its index. `id` is
   * text COLLATE "C": byte order, which is the lowercase-hex order the contract pages by.
   */
  async open(nowMs: number, filter: OpenCommandsFilter = {}): Promise<TerminalCommand[]> {
    const params: unknown[] = [nowMs, filter.afterId ?? '', maxOpenCommands];
    const where = ['acked_at_ms IS NULL', 'expires_at_ms > $1', 'id > $2'];
    if (filter.terminalId !== undefined) where.push(`terminal_id = $${params.push(filter.terminalId)}`);
    if (filter.issuedSinceMs !== undefined) where.push(`issued_at_ms >= $${params.push(filter.issuedSinceMs)}`);
    const { rows } = await this.pool.query<CommandRow>(`SELECT ${columns} FROM terminal_commands WHERE ${where.join(' AND ')} ORDER BY id LIMIT $3`, params);
    return rows.map(toCommand);
  }

  async sent(id: string, atMs: number): Promise<void> {
    await this.pool.query(markSentSql, [id, atMs]);
  }

  async acknowledge(terminalId: string, ack: CommandAck, receivedAtMs: number): Promise<boolean> {
    const recorded = await this.pool.query(recordAckSql, [
      ack.id,
      terminalId,
      ack.outcome,
      ack.outcome === 'ignored' ? ack.reason : null,
      ack.outcome === 'executed' ? (ack.eventId ?? null) : null,
      ack.at,
      receivedAtMs,
    ]);
    return recorded.rowCount === 1;
  }
}
