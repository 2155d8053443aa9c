import type pg from 'pg';
import type { ScanEvent } from '../../../protocol/event.js';
import type { Logger } from '../../../protocol/logger.js';
import type { CommandAck, Telemetry, TerminalStatus } from '../../../protocol/messages.js';
import type {
  CentralStore,
  Checkpoint,
  CheckpointChanges,
  CheckpointStats,
  EnrollmentRedemption,
  EventPage,
  EventQuery,
  FleetTerminal,
  HistogramBar,
  HistogramBucket,
  InsertResult,
  InsidePassage,
  LastDayCounts,
  MemberSummary,
  NewTerminalCommand,
  OpenCommandsFilter,
  RetentionBatch,
  TerminalCommand,
  NewCheckpoint,
  NewEnrollmentToken,
  NewTerminal,
  RedeemOutcome,
  SequenceGap,
  TerminalCredentials,
} from '../centralStore.js';
import { recordFleetUpdates, type FleetUpdate } from '../fleetUpdates.js';
import { StoreError } from '../storeError.js';
import { PgCommands } from './pgCommands.js';
import { createPool, type PgConnectionOptions } from './pgDb.js';
import { PgEnrollmentTokens } from './pgEnrollment.js';
import { PgEventReader } from './pgEventReader.js';
import { PgEventWriter } from './pgEventWriter.js';
import { PgFleet } from './pgFleet.js';
import { PgMembersLookup } from './pgMembers.js';
import { PgPresence } from './pgPresence.js';
import { PgRegistry } from './pgRegistry.js';
import { PgRetention } from './pgRetention.js';
import { migratePg, pgSchemaVersion } from './pgSchema.js';

export interface PostgresCentralStoreOptions extends PgConnectionOptions {
  readonly logger: Logger;
  /** Clock for createdAt/removedAt and the partitions made at migrate, ms since the epoch. Default Date.now. */
  readonly nowMs?: () => number;
}

interface OpenStore {
  readonly pool: pg.Pool;
  readonly registry: PgRegistry;
  readonly enrollment: PgEnrollmentTokens;
  readonly writer: PgEventWriter;
  readonly reader: PgEventReader;
  readonly fleet: PgFleet;
  readonly members: PgMembersLookup;
  readonly presence: PgPresence;
  readonly retention: PgRetention;
  readonly commands: PgCommands;
}

/**
 * The central store on PostgreSQL (DESIGN.md "When one machine is not enough", issue 15
 * point 4): the same contract as SqliteCentralStore (test/broker/store/centralStoreContract.ts),
 * safe with several centrals writing to one database. Nothing here runs on the event loop
 * longer than it takes to hand a query to the socket.
 *
 * Lifecycle: the constructor only keeps its options; migrate() connects, creates or upgrades
 * the schema and must come first; close() ends the pool, and may be called at any time, twice.
 */
export class PostgresCentralStore implements CentralStore {
  private opened: OpenStore | null = null;
  private closed = false;
  private readonly logger: Logger;

  constructor(private readonly options: PostgresCentralStoreOptions) {
    this.logger = options.logger.child({ component: 'store' });
  }

  async migrate(): Promise<void> {
    if (this.closed) throw new StoreError('store-closed', 'the central store was closed');
    if (this.opened !== null) return;
    const nowMs = this.options.nowMs ?? Date.now;
    const pool = createPool(this.options, (err) => this.logger.warn({ err }, 'store.connection-lost'));
    let autovacuum: string;
    try {
      const client = await pool.connect();
      try {
        await migratePg(client, this.options.schema ?? 'public', nowMs());
        autovacuum = (await client.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0]!.autovacuum;
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end();
      throw err;
    }
    if (this.closed) {
      // close() was called while migrating.
      await pool.end();
      throw new StoreError('store-closed', 'the central store was closed');
    }
    this.opened = {
      pool,
      registry: new PgRegistry(pool, nowMs),
      enrollment: new PgEnrollmentTokens(pool, nowMs),
      writer: new PgEventWriter(pool, this.logger),
      reader: new PgEventReader(pool),
      fleet: new PgFleet(pool),
      members: new PgMembersLookup(pool),
      presence: new PgPresence(pool),
      retention: new PgRetention(pool, this.logger),
      commands: new PgCommands(pool),
    };
    this.logger.info({ database: describeUrl(this.options.url), schema: this.options.schema ?? 'public', version: pgSchemaVersion, autovacuum }, 'store.opened');
    // Every scan rewrites its person's presence row and an hourly count, and retention deletes
    // rows: without autovacuum their dead versions pile up (a fill of 10 M events left ~500
    // per presence row) and every read and write of those tables walks them.
    if (autovacuum !== 'on') this.logger.warn({ autovacuum }, 'store.autovacuum-off');
  }

  async close(): Promise<void> {
    this.closed = true;
    const opened = this.opened;
    this.opened = null;
    if (opened === null) return;
    await opened.pool.end();
    this.logger.info('store.closed');
  }

  async createCheckpoint(checkpoint: NewCheckpoint): Promise<Checkpoint> {
    return this.open().registry.createCheckpoint(checkpoint);
  }

  async getCheckpoint(code: string): Promise<Checkpoint | null> {
    return this.open().registry.getCheckpoint(code);
  }

  async listCheckpoints(): Promise<Checkpoint[]> {
    return this.open().registry.listCheckpoints();
  }

  async updateCheckpoint(code: string, changes: CheckpointChanges): Promise<Checkpoint | null> {
    return this.open().registry.updateCheckpoint(code, changes);
  }

  async retireCheckpoint(code: string): Promise<boolean> {
    return this.open().registry.retireCheckpoint(code);
  }

  async addTerminal(terminal: NewTerminal): Promise<void> {
    return this.open().registry.addTerminal(terminal);
  }

  async getTerminalCredentials(terminalId: string): Promise<TerminalCredentials | null> {
    return this.open().registry.getTerminalCredentials(terminalId);
  }

  async listTerminalCredentials(): Promise<TerminalCredentials[]> {
    return this.open().registry.listTerminalCredentials();
  }

  async removeTerminal(terminalId: string): Promise<boolean> {
    return this.open().registry.removeTerminal(terminalId);
  }

  async setTerminalSecret(terminalId: string, secretHash: string): Promise<boolean> {
    return this.open().registry.setTerminalSecret(terminalId, secretHash);
  }

  async createEnrollmentToken(token: NewEnrollmentToken): Promise<void> {
    return this.open().enrollment.createToken(token);
  }

  async redeemEnrollmentToken(redemption: EnrollmentRedemption): Promise<RedeemOutcome> {
    return this.open().enrollment.redeem(redemption);
  }

  async insertEvents(events: readonly ScanEvent[], receivedAtMs: number): Promise<InsertResult> {
    return this.open().writer.insert(events, receivedAtMs);
  }

  async deleteEventsBefore(cutoffMs: number, maxRows: number): Promise<RetentionBatch> {
    return this.open().retention.deleteBefore(cutoffMs, maxRows);
  }

  async gaps(terminalId?: string): Promise<SequenceGap[]> {
    return this.open().fleet.gaps(terminalId);
  }

  async recordStatus(terminalId: string, status: TerminalStatus, atMs: number): Promise<void> {
    return this.open().fleet.recordStatus(terminalId, status, atMs);
  }

  async recordTelemetry(terminalId: string, telemetry: Telemetry, atMs: number): Promise<void> {
    return this.open().fleet.recordTelemetry(terminalId, telemetry, atMs);
  }

  async recordConnection(terminalId: string, online: boolean, atMs: number): Promise<void> {
    return this.open().fleet.recordConnection(terminalId, online, atMs);
  }

  async recordFleet(updates: readonly FleetUpdate[]): Promise<void> {
    await recordFleetUpdates(this, updates);
  }

  async checkpointStats(code: string, nowMs: number): Promise<CheckpointStats | null> {
    const store = this.open();
    const [checkpoint, counts] = await Promise.all([store.registry.getCheckpoint(code), store.reader.checkpointCounts(code, nowMs)]);
    if (checkpoint === null) return null;
    return { code, name: checkpoint.name, ...counts };
  }

  /**
   * Each checkpoint's stats query (whole hours from the rollup, the edges from the events),
   * over the pool at once: one round trip per checkpoint, not per event.
   */
  async lastDayCounts(nowMs: number): Promise<LastDayCounts[]> {
    const store = this.open();
    const codes = (await store.registry.listCheckpoints()).map((c) => c.code).sort();
    const day = ({ lastHour, lastDay }: { lastHour: number; lastDay: number }) => ({ lastHour, lastDay });
    return Promise.all(
      codes.map(async (code) => {
        const counts = await store.reader.checkpointCounts(code, nowMs);
        const byDecision = Object.fromEntries(Object.entries(counts.byDecision).map(([decision, windows]) => [decision, day(windows)])) as LastDayCounts['byDecision'];
        return { code, ...day(counts), byDecision };
      }),
    );
  }

  async checkpointHistogram(code: string, fromMs: number, toMs: number, bucket: HistogramBucket): Promise<HistogramBar[]> {
    return this.open().reader.checkpointHistogram(code, fromMs, toMs, bucket);
  }

  async searchEvents(query: EventQuery): Promise<EventPage> {
    return this.open().reader.search(query);
  }

  async fleet(): Promise<FleetTerminal[]> {
    return this.open().fleet.list();
  }

  async membersByRefs(refs: readonly string[]): Promise<Map<string, MemberSummary>> {
    return this.open().members.byRefs(refs);
  }

  async insideNow(sinceMs: number): Promise<InsidePassage[]> {
    return this.open().presence.inside(sinceMs);
  }

  async takeOut(ref: string, atMs: number): Promise<boolean> {
    return this.open().presence.takeOut(ref, atMs);
  }

  async queueCommand(command: NewTerminalCommand): Promise<void> {
    return this.open().commands.queue(command);
  }

  async getCommand(id: string): Promise<TerminalCommand | null> {
    return this.open().commands.get(id);
  }

  async openCommands(nowMs: number, filter?: OpenCommandsFilter): Promise<TerminalCommand[]> {
    return this.open().commands.open(nowMs, filter);
  }

  async commandSent(id: string, atMs: number): Promise<void> {
    return this.open().commands.sent(id, atMs);
  }

  async acknowledgeCommand(terminalId: string, ack: CommandAck, receivedAtMs: number): Promise<boolean> {
    return this.open().commands.acknowledge(terminalId, ack, receivedAtMs);
  }

  private open(): OpenStore {
    if (this.opened === null) {
      throw new StoreError('store-closed', this.closed ? 'the central store was closed' : 'the central store is not open: call migrate() first');
    }
    return this.opened;
  }
}

/** host:port/database for the log: never the password. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'unparsable url';
  }
}
