import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { TerminalClock } from '../../../gateway/clock.js';
import { ListCache } from '../../../gateway/listCache.js';
import { Outbox, type EventDraft } from '../../../gateway/outbox.js';
import { openTerminalDb, type TerminalDb } from '../../../gateway/terminalDb.js';
import { Uplink } from '../../../gateway/uplink/uplink.js';
import type { Logger } from '../../../protocol/logger.js';
import type { BenchTerminal } from './target.js';

export interface FleetOptions {
  /** Each terminal's SQLite file goes in its own folder under here. */
  readonly dir: string;
  readonly terminals: readonly BenchTerminal[];
  readonly logger: Logger;
}

interface Member {
  readonly terminalId: string;
  readonly db: TerminalDb;
  readonly outbox: Outbox;
  readonly uplink: Uplink;
  recorded: number;
}

/**
 * Simulated terminals on the real terminal code path, minus scanners and GPIO: each has
 * its own SQLite file (gateway/terminalDb.ts), its own durable outbox (gateway/outbox.ts:
 * one transaction per decision, as on a device) and its own MQTT uplink
 * (gateway/uplink/uplink.ts: batches, send window, rows removed on PUBACK).
 *
 * Lifecycle: `open()` creates the files (no network), `startUplinks()` connects, `stop()`
 * stops every uplink (offline status, DISCONNECT) and closes the files; safe to call twice.
 */
export class SimulatedFleet {
  private members: Member[] = [];
  /** The fleet's terminals hold no lists (scopes []): one empty list cache serves them all. */
  private lists: ListCache | null = null;
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: FleetOptions) {}

  get size(): number {
    return this.members.length;
  }

  open(): void {
    if (this.members.length > 0) return;
    const lists = new ListCache(this.options.dir);
    this.lists = lists;
    this.members = this.options.terminals.map((terminal) => {
      const db = openTerminalDb(join(this.options.dir, terminal.terminalId));
      const clock = new TerminalClock(db);
      const bootId = randomUUID();
      const outbox = new Outbox(db, { terminalId: terminal.terminalId, checkpointCode: terminal.checkpointCode, bootId }, clock);
      const uplink = new Uplink({
        config: terminal.central,
        terminalId: terminal.terminalId,
        checkpointCode: terminal.checkpointCode,
        bootId,
        outbox,
        clock,
        lists,
        scopes: [],
        lanes: [],
        logger: this.options.logger.child({ terminalId: terminal.terminalId }),
        clockSynced: () => null,
      });
      return { terminalId: terminal.terminalId, db, outbox, uplink, recorded: 0 };
    });
  }

  startUplinks(): void {
    for (const member of this.members) member.uplink.start();
  }

  connectedCount(): number {
    return this.members.reduce((n, member) => n + (member.uplink.connected ? 1 : 0), 0);
  }

  /** One decision at terminal `index`, into its outbox (its uplink is told by the outbox). */
  record(index: number, draft: EventDraft): void {
    const member = this.members[index]!;
    member.outbox.record(draft);
    member.recorded++;
  }

  /** True once every outbox is empty: everything recorded has been acknowledged by the broker. */
  allDrained(): boolean {
    return this.members.every((member) => member.outbox.isEmpty());
  }

  /** Rows still waiting in the outboxes. */
  depth(): number {
    return this.members.reduce((n, member) => n + member.outbox.depth(), 0);
  }

  /** Decisions recorded per terminal; each terminal's seqs are 1..count. */
  recorded(): ReadonlyMap<string, number> {
    return new Map(this.members.map((member) => [member.terminalId, member.recorded]));
  }

  stop(): Promise<void> {
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async close(): Promise<void> {
    await Promise.all(this.members.map((member) => member.uplink.stop()));
    for (const member of this.members) member.db.close();
    this.lists?.close();
  }
}
