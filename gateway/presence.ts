import type { Direction } from '../protocol/event.js';
import type { TerminalDb } from './terminalDb.js';

/**
 * Anti-passback memory: the last direction each credential passed at this terminal.
 * Persisted, so a restart does not let a second person in on the same card.
 */
export class Presence {
  private readonly select;
  private readonly upsert;

  constructor(
    db: TerminalDb,
    private readonly windowMs: number,
  ) {
    this.select = db.prepare<[Buffer], { direction: Direction; at_ms: number }>('SELECT direction, at_ms FROM presence WHERE ref = ?');
    this.upsert = db.prepare<[Buffer, string, number]>('INSERT OR REPLACE INTO presence (ref, direction, at_ms) VALUES (?, ?, ?)');
  }

  lastDirection(ref: Buffer, nowMs: number): Direction | null {
    const row = this.select.get(ref);
    if (!row || nowMs - row.at_ms > this.windowMs) return null;
    return row.direction;
  }

  passed(ref: Buffer, direction: Direction, atMs: number): void {
    this.upsert.run(ref, direction, atMs);
  }
}
