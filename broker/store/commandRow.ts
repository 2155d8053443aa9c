import type { CommandIgnoreReason, CommandName } from '../../protocol/messages.js';
import type { NewTerminalCommand, TerminalCommand } from './centralStore.js';
import { msToIso, msToIsoOrNull } from './time.js';

/**
 * A `terminal_commands` row as both stores read it (sqliteCommands.ts, postgres/pgCommands.ts);
 * `Fields` is how the driver hands back the fields column (SQLite: JSON text, PostgreSQL: jsonb, parsed).
 */
export interface CommandRow<Fields> {
  readonly id: string;
  readonly terminalId: string;
  readonly checkpointCode: string;
  readonly name: string;
  readonly fields: Fields;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
  readonly issuedBy: string;
  readonly attempts: number;
  readonly lastSentAtMs: number | null;
  readonly ackOutcome: 'executed' | 'ignored' | null;
  readonly ackReason: string | null;
  readonly ackEventId: string | null;
  readonly ackTerminalAt: string | null;
  readonly ackedAtMs: number | null;
}

export function toTerminalCommand<Fields>(row: CommandRow<Fields>, fields: NewTerminalCommand['fields']): TerminalCommand {
  return {
    id: row.id,
    terminalId: row.terminalId,
    checkpointCode: row.checkpointCode,
    name: row.name as CommandName,
    fields,
    issuedAt: msToIso(row.issuedAtMs),
    expiresAt: msToIso(row.expiresAtMs),
    issuedBy: row.issuedBy,
    attempts: row.attempts,
    lastSentAt: msToIsoOrNull(row.lastSentAtMs),
    ack:
      row.ackOutcome === null || row.ackedAtMs === null
        ? null
        : {
            outcome: row.ackOutcome,
            reason: row.ackReason as CommandIgnoreReason | null,
            eventId: row.ackEventId,
            terminalAt: row.ackTerminalAt ?? '',
            receivedAt: msToIso(row.ackedAtMs),
          },
  };
}
