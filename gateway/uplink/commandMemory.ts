import { commandAckSchema, type CommandAck } from '../../protocol/messages.js';
import type { TerminalDb } from '../terminalDb.js';

/**
 * The commands a terminal has run, and the ack each earned (issue 15 point 6). The central
 * sends a command again until it hears an ack, so every id must be run at most once and
 * every copy answered with the first outcome.
 *
 * `claim` comes before the command runs, `answer` after: a process killed in between finds
 * the id claimed and unanswered after its restart, and refuses the copy (at most once: a
 * gate must not open twice because an ack was lost in a power cut).
 */
export interface CommandMemory {
  /** The first ack of `id`; 'unanswered' when claimed but never answered (the run was cut short); null when new. */
  recall(id: string): CommandAck | 'unanswered' | null;
  claim(id: string): void;
  answer(ack: CommandAck): void;
}

/**
 * Commands live at most a day (broker/commands/commandRequests.ts maxCommandTtlS) and arrive
 * a few a day; this many ids outlast any copy still on its way, and keep the table small.
 */
export const rememberedCommands = 1000;

/** In memory: a restarted process forgets. For tests and terminals without a database. */
export class InMemoryCommandMemory implements CommandMemory {
  private readonly recent = new Map<string, CommandAck | null>();

  recall(id: string): CommandAck | 'unanswered' | null {
    if (!this.recent.has(id)) return null;
    return this.recent.get(id) ?? 'unanswered';
  }

  claim(id: string): void {
    this.recent.set(id, null);
    if (this.recent.size > rememberedCommands) {
      const oldest = this.recent.keys().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
  }

  answer(ack: CommandAck): void {
    if (this.recent.has(ack.id)) this.recent.set(ack.id, ack);
  }
}

/** In terminal.db (table `handled_commands`): survives a restart, a crash and a power cut (as the outbox does). */
export class SqliteCommandMemory implements CommandMemory {
  private readonly select;
  private readonly insert;
  private readonly prune;
  private readonly update;

  constructor(db: TerminalDb) {
    this.select = db.prepare<[string], { ack: string | null }>('SELECT ack FROM handled_commands WHERE id = ?');
    this.insert = db.prepare<[string]>('INSERT OR IGNORE INTO handled_commands (id) VALUES (?)');
    this.prune = db.prepare<[number]>('DELETE FROM handled_commands WHERE n <= (SELECT max(n) FROM handled_commands) - ?');
    this.update = db.prepare<[string, string]>('UPDATE handled_commands SET ack = ? WHERE id = ?');
  }

  recall(id: string): CommandAck | 'unanswered' | null {
    const row = this.select.get(id);
    if (row === undefined) return null;
    if (row.ack === null) return 'unanswered';
    const parsed = commandAckSchema.safeParse(JSON.parse(row.ack));
    return parsed.success ? parsed.data : 'unanswered';
  }

  claim(id: string): void {
    this.insert.run(id);
    this.prune.run(rememberedCommands);
  }

  answer(ack: CommandAck): void {
    this.update.run(JSON.stringify(ack), ack.id);
  }
}
