import type { ScanEvent } from '../../protocol/event.js';
import type { Logger } from '../../protocol/logger.js';
import type { Telemetry, TerminalStatus } from '../../protocol/messages.js';
import type {
  CentralStore,
  Checkpoint,
  CheckpointChanges,
  CheckpointStats,
  LastDayCounts,
  HistogramBar,
  HistogramBucket,
  InsidePassage,
  EnrollmentRedemption,
  EventPage,
  EventQuery,
  FleetTerminal,
  InsertResult,
  MemberSummary,
  NewCheckpoint,
  NewTerminalCommand,
  OpenCommandsFilter,
  NewEnrollmentToken,
  NewTerminal,
  RedeemOutcome,
  RetentionBatch,
  SequenceGap,
  TerminalCommand,
  TerminalCredentials,
} from './centralStore.js';
import type { CommandAck } from '../../protocol/messages.js';
import { SqliteCommands } from './sqliteCommands.js';
import { SqliteMembersLookup } from '../registry/membersByRefs.js';
import { SqliteEventReader } from './sqliteEventReader.js';
import { SqliteEventWriter } from './sqliteEventWriter.js';
import { SqliteFleet } from './sqliteFleet.js';
import { SqlitePresence } from './sqlitePresence.js';
import { SqliteEnrollmentTokens } from './sqliteEnrollment.js';
import { SqliteRegistry } from './sqliteRegistry.js';
import { SqliteRetention } from './sqliteRetention.js';
import { openCentralDb, schemaVersion, type CentralDb } from './sqliteSchema.js';
import { recordFleetUpdates, type FleetUpdate } from './fleetUpdates.js';
import { StoreError } from './storeError.js';
import { SqliteWriteBatch } from './sqliteWriteBatch.js';
import { startWalCheckpointer, type WalCheckpointer } from '../../protocol/walCheckpointer.js';
import { openWalBacklog, type WalBacklog } from '../../protocol/walBacklog.js';

export interface SqliteCentralStoreOptions {
  /** The database file, normally `central.db` in the central's dataDir. Its folder is created if missing. */
  readonly file: string;
  readonly logger: Logger;
  /** See CentralDbOptions in sqliteSchema.ts. Default NORMAL. */
  readonly synchronous?: 'NORMAL' | 'FULL';
  /** Clock for createdAt/removedAt, ms since the epoch. Default Date.now. */
  readonly nowMs?: () => number;
}

interface OpenStore {
  readonly db: CentralDb;
  readonly registry: SqliteRegistry;
  readonly enrollment: SqliteEnrollmentTokens;
  readonly writer: SqliteEventWriter;
  readonly reader: SqliteEventReader;
  readonly fleet: SqliteFleet;
  /** Fleet-view writes, one transaction per event-loop turn (sqliteWriteBatch.ts). */
  readonly fleetWrites: SqliteWriteBatch;
  readonly members: SqliteMembersLookup;
  readonly presence: SqlitePresence;
  readonly retention: SqliteRetention;
  readonly commands: SqliteCommands;
  readonly checkpointer: WalCheckpointer;
  readonly walBacklog: WalBacklog;
}

/**
 * The central's checkpoints run on a connection and thread of their own (walCheckpointer.ts),
 * not inside whichever ingestion commit takes the WAL past 1,000 pages: at 1,000 events/s the
 * events' indexes add ~6 random pages an event (events_credential and presence by person), so
 * that was every ~20th commit writing ~1,000 pages back and syncing the file (docs/benchmarks.md,
 * "The store at size and retention"). Every half second keeps the WAL to ~3,000 pages at that rate;
 * the committing connection checkpoints itself only past the backstop, ~80 MB, if the worker lags.
 */
const checkpointIntervalMs = 500;
const checkpointBackstopPages = 20_000;
/**
 * The WAL is started again once it holds ~16 MB (walCheckpointer.ts: the worker catches up,
 * then this connection's thread runs the RESTART between two transactions): ingestion commits
 * every few ms, so the WAL would otherwise never start again and would reach the backstop,
 * where a commit checkpoints inside itself.
 */
const checkpointRestartPages = 4_000;
/**
 * Retention writes no more while the WAL holds more than the worker restarts at
 * (sqliteRetention.ts): it then runs as fast as the checkpoints copy its pages back, and the
 * WAL never reaches the backstop on its account.
 */
const retentionMaxWalBacklogPages = checkpointRestartPages;

/**
 * The default central store (DESIGN.md "Storage"): one embedded SQLite file in WAL mode.
 * Every method answers synchronously inside its promise; a write blocks the event loop for
 * the length of its transaction (insertEvents: see sqliteEventWriter.ts). Fleet-view writes
 * (status, telemetry, connections) are the exception: they are committed together at the
 * end of the event-loop turn (sqliteWriteBatch.ts).
 *
 * Lifecycle: the constructor only keeps its options; migrate() opens the file (creating
 * or upgrading the schema) and must come first; close() may be called at any time, twice.
 */
export class SqliteCentralStore implements CentralStore {
  private opened: OpenStore | null = null;
  private closed = false;
  private readonly logger: Logger;

  constructor(private readonly options: SqliteCentralStoreOptions) {
    this.logger = options.logger.child({ component: 'store' });
  }

  async migrate(): Promise<void> {
    if (this.closed) throw new StoreError('store-closed', 'the central store was closed');
    if (this.opened !== null) return;
    const synchronous = this.options.synchronous ?? 'NORMAL';
    const db = openCentralDb(this.options.file, { synchronous });
    // SQLite's default cache is 2 MB: at millions of events, the inner pages of the events'
    // five b-trees no longer fit, and every insert and retention delete reads them again from
    // the OS (retention's CPU per deleted row: ~80 µs with 2 MB, ~50 µs with 64 MB, loaded machine).
    db.pragma(`cache_size = ${-64 * 1024}`);
    const logger = this.logger;
    const walBacklog = openWalBacklog(this.options.file);
    const checkpointer = startWalCheckpointer(db, {
      file: this.options.file,
      powerLossSafe: synchronous === 'FULL',
      logger,
      intervalMs: checkpointIntervalMs,
      backstopPages: checkpointBackstopPages,
      restartPages: checkpointRestartPages,
      walBacklog,
    });
    const presence = new SqlitePresence(db);
    this.opened = {
      db,
      registry: new SqliteRegistry(db, this.options.nowMs ?? Date.now),
      enrollment: new SqliteEnrollmentTokens(db, this.options.nowMs ?? Date.now),
      writer: new SqliteEventWriter(db, logger, presence),
      reader: new SqliteEventReader(db),
      fleet: new SqliteFleet(db),
      fleetWrites: new SqliteWriteBatch(db),
      members: new SqliteMembersLookup(db),
      presence,
      retention: new SqliteRetention(db, { walBacklog, maxWalBacklogPages: retentionMaxWalBacklogPages, checkpointer }),
      commands: new SqliteCommands(db),
      checkpointer,
      walBacklog,
    };
    logger.info({ file: this.options.file, schema: schemaVersion }, 'store.opened');
  }

  async close(): Promise<void> {
    this.closed = true;
    const opened = this.opened;
    this.opened = null;
    if (opened === null) return;
    opened.fleetWrites.flush();
    await opened.checkpointer.close();
    opened.walBacklog.close();
    opened.db.close();
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
    this.open().registry.addTerminal(terminal);
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
    this.open().enrollment.createToken(token);
  }

  async redeemEnrollmentToken(redemption: EnrollmentRedemption): Promise<RedeemOutcome> {
    return this.open().enrollment.redeem(redemption);
  }

  async insertEvents(events: readonly ScanEvent[], receivedAtMs: number): Promise<InsertResult> {
    return this.open().writer.insert(events, receivedAtMs);
  }

  async deleteEventsBefore(cutoffMs: number, maxRows: number, budgetMs?: number): Promise<RetentionBatch> {
    return this.open().retention.deleteBefore(cutoffMs, maxRows, budgetMs);
  }

  async gaps(terminalId?: string): Promise<SequenceGap[]> {
    return this.open().fleet.gaps(terminalId);
  }

  async recordStatus(terminalId: string, status: TerminalStatus, atMs: number): Promise<void> {
    const { fleet, fleetWrites } = this.open();
    await fleetWrites.enqueue(() => fleet.recordStatus(terminalId, status, atMs));
  }

  async recordTelemetry(terminalId: string, telemetry: Telemetry, atMs: number): Promise<void> {
    const { fleet, fleetWrites } = this.open();
    await fleetWrites.enqueue(() => fleet.recordTelemetry(terminalId, telemetry, atMs));
  }

  async recordConnection(terminalId: string, online: boolean, atMs: number): Promise<void> {
    const { fleet, fleetWrites } = this.open();
    await fleetWrites.enqueue(() => fleet.recordConnection(terminalId, online, atMs));
  }

  async recordFleet(updates: readonly FleetUpdate[]): Promise<void> {
    await recordFleetUpdates(this, updates);
  }

  async checkpointStats(code: string, nowMs: number): Promise<CheckpointStats | null> {
    const store = this.open();
    const checkpoint = store.registry.getCheckpoint(code);
    if (checkpoint === null) return null;
    return { code, name: checkpoint.name, ...store.reader.checkpointCounts(code, nowMs) };
  }

  async lastDayCounts(nowMs: number): Promise<LastDayCounts[]> {
    const store = this.open();
    const codes = store.registry.listCheckpoints().map((c) => c.code).sort();
    return store.reader.lastDayCounts(codes, nowMs);
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
    this.open().commands.queue(command);
  }

  async getCommand(id: string): Promise<TerminalCommand | null> {
    return this.open().commands.get(id);
  }

  async openCommands(nowMs: number, filter?: OpenCommandsFilter): Promise<TerminalCommand[]> {
    return this.open().commands.open(nowMs, filter);
  }

  async commandSent(id: string, atMs: number): Promise<void> {
    this.open().commands.sent(id, atMs);
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
