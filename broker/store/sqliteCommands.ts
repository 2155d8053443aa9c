import { toTerminalCommand, type CommandRow as SharedCommandRow } from './commandRow.js';
import type { CommandAck } from '../../protocol/messages.js';
import { maxOpenCommands, type NewTerminalCommand, type OpenCommandsFilter, type TerminalCommand } from './centralStore.js';
import type { CentralDb } from './sqliteSchema.js';
import { StoreError } from './storeError.js';

/**
 * The command queue (schema table `terminal_commands`, centralStore.ts NewTerminalCommand):
 * one row per command, written by the CLI, read by every central node's delivery poll
 * (broker/commands/commandDelivery.ts), acknowledged by the terminal through its node.
 */

type CommandRow = SharedCommandRow<string>;

interface OpenParams {
  readonly nowMs: number;
  readonly afterId: string;
  readonly terminalId: string | null;
  readonly issuedSinceMs: number | null;
  readonly limit: number;
}

const columns = `id, terminal_id AS terminalId, checkpoint_code AS checkpointCode, name, fields, issued_at_ms AS issuedAtMs,
  expires_at_ms AS expiresAtMs, issued_by AS issuedBy, attempts, last_sent_at_ms AS lastSentAtMs, ack_outcome AS ackOutcome,
  ack_reason AS ackReason, ack_event_id AS ackEventId, ack_terminal_at AS ackTerminalAt, acked_at_ms AS ackedAtMs`;

const toCommand = (row: CommandRow): TerminalCommand => toTerminalCommand(row, JSON.parse(row.fields) as NewTerminalCommand['fields']);

export class SqliteCommands {
  private readonly insert;
  private readonly selectOne;
  private readonly selectOpen;
  private readonly markSent;
  private readonly recordAck;

  constructor(db: CentralDb) {
    this.insert = db.prepare(
      `INSERT INTO terminal_commands (id, terminal_id, checkpoint_code, name, fields, issued_at_ms, expires_at_ms, issued_by)
       VALUES (@id, @terminalId, @checkpointCode, @name, @fields, @issuedAtMs, @expiresAtMs, @issuedBy)
       ON CONFLICT (id) DO NOTHING`,
    );
    this.selectOne = db.prepare<[string], CommandRow>(`SELECT ${columns} FROM terminal_commands WHERE id = ?`);
    // `acked_at_ms IS NULL` as written in the partial indexes, so the planner may use them; one
    // statement per shape, because a condition switched off by a NULL parameter (`@x IS NULL OR
    // …`) keeps SQLite from using its index. Without statistics it prefers the primary key for
    // ORDER BY id, which walks every open command: the recent read names its index.
    const open = (from: string, where: string) =>
      db.prepare<[OpenParams], CommandRow>(
        `SELECT ${columns} FROM ${from} WHERE acked_at_ms IS NULL AND expires_at_ms > @nowMs AND id > @afterId ${where} ORDER BY id LIMIT @limit`,
      );
    this.selectOpen = {
      all: open('terminal_commands', ''),
      terminal: open('terminal_commands', 'AND terminal_id = @terminalId AND (@issuedSinceMs IS NULL OR issued_at_ms >= @issuedSinceMs)'),
      recent: open('terminal_commands INDEXED BY terminal_commands_issued', 'AND issued_at_ms >= @issuedSinceMs'),
    };
    this.markSent = db.prepare<[number, string]>('UPDATE terminal_commands SET attempts = attempts + 1, last_sent_at_ms = ? WHERE id = ?');
    this.recordAck = db.prepare(
      `UPDATE terminal_commands SET ack_outcome = @outcome, ack_reason = @reason, ack_event_id = @eventId, ack_terminal_at = @at, acked_at_ms = @receivedAtMs
       WHERE id = @id AND terminal_id = @terminalId AND acked_at_ms IS NULL`,
    );
  }

  queue(command: NewTerminalCommand): void {
    const { fields, ...row } = command;
    const inserted = this.insert.run({ ...row, fields: JSON.stringify(fields) });
    if (inserted.changes === 0) throw new StoreError('command-exists', `a command with id ${command.id} is queued already`);
  }

  get(id: string): TerminalCommand | null {
    const row = this.selectOne.get(id);
    return row === undefined ? null : toCommand(row);
  }

  open(nowMs: number, filter: OpenCommandsFilter = {}): TerminalCommand[] {
    const params: OpenParams = { nowMs, afterId: filter.afterId ?? '', terminalId: filter.terminalId ?? null, issuedSinceMs: filter.issuedSinceMs ?? null, limit: maxOpenCommands };
    const statement = filter.terminalId !== undefined ? this.selectOpen.terminal : filter.issuedSinceMs !== undefined ? this.selectOpen.recent : this.selectOpen.all;
    return statement.all(params).map(toCommand);
  }

  sent(id: string, atMs: number): void {
    this.markSent.run(atMs, id);
  }

  acknowledge(terminalId: string, ack: CommandAck, receivedAtMs: number): boolean {
    const recorded = this.recordAck.run({
      id: ack.id,
      terminalId,
      outcome: ack.outcome,
      reason: ack.outcome === 'ignored' ? ack.reason : null,
      eventId: ack.outcome === 'executed' ? (ack.eventId ?? null) : null,
      at: ack.at,
      receivedAtMs,
    });
    return recorded.changes === 1;
  }
}
