import type { FleetUpdate } from './fleetUpdates.js';
import type { Decision, Direction, ScanEvent } from '../../protocol/event.js';
import type { Command, CommandAck, CommandIgnoreReason, CommandName, Telemetry, TerminalStatus } from '../../protocol/messages.js';

/**
 * The central's storage (DESIGN.md "Storage"): one interface, SQLite by default and
 * PostgreSQL later, both held to one contract suite (test/broker/store/). Methods are
 * async so a networked database fits; the SQLite implementation may answer synchronously
 * inside them.
 */

export type CheckpointDirection = 'in' | 'out' | 'both';

/** Where a checkpoint is and who runs it, as the seed system recorded them (issue 5). */
export interface CheckpointDetails {
  /** The organisation or department running the checkpoint; '' when not given. */
  readonly unit: string;
  /** WGS 84 degrees, -90..90; null when not given. Latitude and longitude are set together. */
  readonly latitude: number | null;
  /** WGS 84 degrees, -180..180; null exactly when latitude is. */
  readonly longitude: number | null;
  /** Outside the headquarters: a branch site. */
  readonly branch: boolean;
}

export interface Checkpoint extends CheckpointDetails {
  readonly code: string;
  readonly name: string;
  readonly direction: CheckpointDirection;
  readonly confirm: 'auto' | 'manual';
  readonly createdAt: string;
  readonly retiredAt: string | null;
}

/** What createCheckpoint takes; details left out are '' / null / false. */
export type NewCheckpoint = Pick<Checkpoint, 'code' | 'name' | 'direction' | 'confirm'> & Partial<CheckpointDetails>;

/** What updateCheckpoint may change; a field left out keeps its value. */
export type CheckpointChanges = Partial<Pick<Checkpoint, 'name' | 'direction' | 'confirm'> & CheckpointDetails>;

export interface TerminalCredentials {
  readonly terminalId: string;
  readonly checkpointCode: string;
  /** scrypt hash in the format of broker/auth/secrets.ts; the secret itself is never stored. */
  readonly secretHash: string;
  readonly removedAt: string | null;
  /**
   * The list scopes the terminal was provisioned with (`terminals add --lists`): the only
   * `qrgate/v1/lists/{scope}/` topics the ACL lets it subscribe to. Null for a terminal added
   * before the central recorded scopes (SQLite schema 3): unknown, so it keeps any scope
   * until it is re-added (broker/auth/acl.ts, docs/central.md "Terminals added before").
   */
  readonly listScopes: readonly string[] | null;
}

/** What provisioning registers. A new terminal always names its list scopes. */
export interface NewTerminal {
  readonly terminalId: string;
  readonly checkpointCode: string;
  /** scrypt hash (broker/auth/secrets.ts). */
  readonly secretHash: string;
  /** Scopes valid under listScopeSchema (protocol/lists), as written into the terminal's config. */
  readonly listScopes: readonly string[];
}

/** A single-use enrollment QR as the central keeps it (`terminals enroll-qr`, docs/enrollment.md). */
export interface NewEnrollmentToken {
  /** SHA-256 of the QR's token, hex: the token itself is a bearer secret and is never stored. */
  readonly tokenHash: string;
  readonly checkpointCode: string;
  /** The list scopes the enrolled terminal will hold, as `terminals add --lists`. */
  readonly listScopes: readonly string[];
  readonly expiresAtMs: number;
}

export interface EnrollmentRedemption {
  readonly tokenHash: string;
  /** Who is asking (the client id's nonce): the same device asking again gets its identity again. */
  readonly device: string;
  readonly nowMs: number;
  /** The identity to create: a fresh id and the hash of a fresh secret. */
  readonly terminalId: string;
  readonly secretHash: string;
}

export type RedeemOutcome =
  /** `reissued`: the same device asked again (a lost answer); its terminal keeps its id and takes the new secret. */
  | { readonly ok: true; readonly terminalId: string; readonly checkpointCode: string; readonly listScopes: readonly string[]; readonly reissued: boolean }
  | { readonly ok: false; readonly reason: 'unknown' | 'replayed' | 'expired' | 'checkpoint-retired' };

export interface InsertResult {
  /** Events stored now. */
  readonly inserted: number;
  /** Events already stored before (a redelivery): harmless, not stored twice. */
  readonly duplicates: number;
  /**
   * The events stored now, in the order given: only the store knows which of a batch were
   * new, and what counts scans by decision (broker/ingestion/scanCounter.ts) must skip redeliveries.
   */
  readonly stored: readonly ScanEvent[];
}

/** A missing range of a terminal's sequence numbers, inclusive. */
export interface SequenceGap {
  readonly terminalId: string;
  readonly fromSeq: number;
  readonly toSeq: number;
}

export interface CheckpointStats {
  readonly code: string;
  readonly name: string;
  readonly lastHour: number;
  readonly lastDay: number;
  readonly lastWeek: number;
  readonly lastMonth: number;
  /** The same four windows split by decision. */
  readonly byDecision: Record<Decision, { lastHour: number; lastDay: number; lastWeek: number; lastMonth: number }>;
}

/** A checkpoint's scans in the last hour and the last day, as checkpointStats counts them (CentralStore.lastDayCounts). */
export interface LastDayCounts {
  readonly code: string;
  readonly lastHour: number;
  readonly lastDay: number;
  readonly byDecision: Record<Decision, { lastHour: number; lastDay: number }>;
}

/** The width of a checkpointHistogram bucket. */
export type HistogramBucket = 'hour' | 'day';

/** One bar of a checkpoint's scans-over-time chart. */
export interface HistogramBar {
  /** The bucket's start, epoch ms: an hour, or a midnight in Asia/Ho_Chi_Minh (UTC+7). */
  readonly startMs: number;
  readonly count: number;
}

/** The largest page searchEvents returns (EventQuery.limit is 1..this). */
export const maxEventsPerPage = 1000;

export interface EventQuery {
  readonly checkpoint?: string;
  /** Only events at one of these checkpoints (a manager's unit, a guard's gates); empty matches nothing. */
  readonly checkpoints?: readonly string[];
  readonly terminal?: string;
  /** Inclusive lower bound on the terminal timestamp `ts`, ISO 8601. */
  readonly from?: string;
  /** Exclusive upper bound on `ts`, ISO 8601. */
  readonly to?: string;
  readonly direction?: Direction;
  readonly decision?: Decision;
  /**
   * Only events whose credential ref (64 hex digits) is one of these: the people a filter by
   * person, unit or residence picked (broker/registry/eventPeople.ts). Empty matches nothing.
   */
  readonly credentialRefs?: readonly string[];
  readonly limit: number;
  /** Opaque; from the previous page's `nextCursor`. */
  readonly cursor?: string;
}

export interface EventPage {
  /** Newest first. */
  readonly events: readonly (ScanEvent & { readonly receivedAt: string })[];
  readonly nextCursor: string | null;
}

export interface FleetTerminal {
  readonly terminalId: string;
  readonly checkpointCode: string;
  readonly online: boolean;
  /** Last status, telemetry or event from it, ISO 8601; null if never seen. */
  readonly lastSeenAt: string | null;
  readonly bootId: string | null;
  readonly telemetry: Telemetry | null;
  readonly lastSeq: number | null;
  readonly gaps: readonly SequenceGap[];
  readonly removed: boolean;
  /** Its checkpoint was retired (`checkpoints retire`): the broker refuses it like a removed terminal. */
  readonly checkpointRetired: boolean;
}

/**
 * Who a credential ref belongs to, for the in/out log (issue 4). The raw ID number is never
 * held by the central; `idMasked` shows its last 3 digits.
 */
export interface MemberSummary {
  readonly name: string;
  readonly phone: string;
  readonly address: string;
  readonly unit: string;
  readonly scope: string;
  readonly idMasked: string;
  readonly status: 'allow' | 'deny' | 'check';
}

/** A person inside now (insideNow): their last passage was `in`. */
export interface InsidePassage {
  /** The credential ref of that passage, 64 hex digits (membersByRefs finds who it is). */
  readonly ref: string;
  /** When they went in, by the terminal's clock, ISO 8601. */
  readonly since: string;
  readonly checkpointCode: string;
  readonly eventId: string;
}

/** What one deleteEventsBefore call did (retention, broker/store/eventRetention.ts). */
export interface RetentionBatch {
  /** Events deleted by this call. */
  readonly events: number;
  /** Nothing stamped before the cutoff is left (events, presence, hourly counts): the pass is over. */
  readonly done: boolean;
}

/**
 * A command queued for a terminal (`qrgate terminals command`, issue 15 point 6). The queue
 * is the store, not the broker: any central node holding the terminal's connection delivers
 * it, again and again until the terminal acknowledges it (`…/cmd-acks`) or it expires, so
 * nothing that must arrive rides on a pub/sub that may drop it.
 */
export interface NewTerminalCommand {
  /** A UUID, unique: the terminal's duplicate check and the ack name it. UUIDv7 (time-ordered) from queueTerminalCommand. */
  readonly id: string;
  readonly terminalId: string;
  readonly checkpointCode: string;
  readonly name: CommandName;
  /** What the command carries besides its envelope (protocol/messages.ts commandSchema). */
  readonly fields: Pick<Command, 'lane' | 'pendingId' | 'by' | 'reason'>;
  readonly issuedAtMs: number;
  /** Never delivered from then on; later than issuedAtMs. */
  readonly expiresAtMs: number;
  /** Who asked for it, as the audit log names actors (`cli:root`, `user:lan`). */
  readonly issuedBy: string;
}

/** What the terminal answered, as the central received it. */
export interface TerminalCommandAck {
  readonly outcome: 'executed' | 'ignored';
  /** Why it was ignored; null when executed. */
  readonly reason: CommandIgnoreReason | null;
  /** The event an `open`, `confirm` or `reject` was recorded as; null otherwise. */
  readonly eventId: string | null;
  /** The terminal's clock when it handled the command, ISO 8601 as it sent it. */
  readonly terminalAt: string;
  /** The central's clock when the ack arrived, ISO 8601. */
  readonly receivedAt: string;
}

export interface TerminalCommand {
  readonly id: string;
  readonly terminalId: string;
  readonly checkpointCode: string;
  readonly name: CommandName;
  readonly fields: NewTerminalCommand['fields'];
  readonly issuedAt: string;
  readonly expiresAt: string;
  readonly issuedBy: string;
  /** Times a node published it (commandSent). */
  readonly attempts: number;
  readonly lastSentAt: string | null;
  /** The first ack received; null until then. */
  readonly ack: TerminalCommandAck | null;
}

/** The most openCommands returns in one call: a node's poll stays one bounded query. */
export const maxOpenCommands = 1000;

export interface OpenCommandsFilter {
  readonly afterId?: string;
  readonly terminalId?: string;
  readonly issuedSinceMs?: number;
}

export interface CentralStore {
  /** Creates or upgrades the schema. Safe to call on every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /**
   * Rejects once the store can no longer answer at all (its worker thread died): a service
   * stops on it and its supervisor restarts it, rather than run on refusing every commit.
   * Absent where that cannot happen; never settles on a close().
   */
  readonly lost?: Promise<never>;

  createCheckpoint(checkpoint: NewCheckpoint): Promise<Checkpoint>;
  getCheckpoint(code: string): Promise<Checkpoint | null>;
  /** Retired ones included, by code. */
  listCheckpoints(): Promise<Checkpoint[]>;
  /**
   * The checkpoint after the change; null for an unknown code. Rejects with StoreError
   * `checkpoint-retired` for a retired one: its history is kept as it was.
   */
  updateCheckpoint(code: string, changes: CheckpointChanges): Promise<Checkpoint | null>;
  /**
   * True when the checkpoint was retired by this call; false if unknown or already retired.
   * Its terminals are refused from then on (broker/auth/authenticate.ts), and cut off if
   * connected (broker/auth/revocationWatcher.ts).
   */
  retireCheckpoint(code: string): Promise<boolean>;

  addTerminal(terminal: NewTerminal): Promise<void>;
  getTerminalCredentials(terminalId: string): Promise<TerminalCredentials | null>;
  /**
   * Every terminal's credentials, removed ones included, in one read: the revocation
   * watcher checks the whole connected fleet each second (broker/auth/revocationWatcher.ts),
   * and one lookup per terminal took a fifth of every second at 10,000 terminals.
   */
  listTerminalCredentials(): Promise<TerminalCredentials[]>;
  removeTerminal(terminalId: string): Promise<boolean>;
  /**
   * Replaces a terminal's secret hash (`terminals rotate-secret`): the old secret is refused
   * from then on. True when replaced; false if the terminal is unknown or removed.
   */
  setTerminalSecret(terminalId: string, secretHash: string): Promise<boolean>;

  createEnrollmentToken(token: NewEnrollmentToken): Promise<void>;
  /**
   * Uses an enrollment token, in one transaction: refused when unknown, used by another
   * device, expired, or its checkpoint retired; otherwise the terminal is added with the
   * token's checkpoint and scopes and the token is marked used. Checks run in that order.
   */
  redeemEnrollmentToken(redemption: EnrollmentRedemption): Promise<RedeemOutcome>;

  /**
   * Stores events exactly once (the event id is unique; a redelivery counts as a
   * duplicate) and updates the per-terminal sequence bookkeeping, in one transaction.
   * Resolves only once the transaction is durable.
   */
  insertEvents(events: readonly ScanEvent[], receivedAtMs: number): Promise<InsertResult>;

  /**
   * Retention (issue 15 point 5, docs/security.md "How long scans are kept"): deletes events
   * stamped before cutoffMs by the terminal's `ts`, oldest first, with what derives from them:
   * their hourly counts (checkpointStats and checkpointHistogram keep agreeing with the events
   * left), presence rows older than the cutoff (a passage past retention keeps nobody inside),
   * and their index entries. Nothing stamped at or after the cutoff is touched. The sequence
   * bookkeeping stays: a terminal's next event opens no gap where deleted events were.
   *
   * Each call is one short transaction of at most maxRows events (a row-by-row store) so a
   * caller can pace a pass between ingestion's commits; a store that drops whole partitions
   * may delete more in one call. A store with one writer also stops deleting once the call has
   * run `budgetMs` (it still commits what it deleted): rows cost unevenly, and the budget, not
   * the row count, is what bounds how long ingestion waits. Call again until `done`.
   */
  deleteEventsBefore(cutoffMs: number, maxRows: number, budgetMs?: number): Promise<RetentionBatch>;

  /** Missing sequence ranges; a range disappears when its late events arrive. */
  gaps(terminalId?: string): Promise<SequenceGap[]>;

  recordStatus(terminalId: string, status: TerminalStatus, atMs: number): Promise<void>;
  recordTelemetry(terminalId: string, telemetry: Telemetry, atMs: number): Promise<void>;
  /** Connection-level view: a terminal connected or disconnected (the status message may lag). */
  recordConnection(terminalId: string, online: boolean, atMs: number): Promise<void>;
  /**
   * Several connects and statuses in one call (fleetUpdates.ts): a restart's logins each
   * write both, and one call each to the store's worker thread was a share of the restarted
   * central's CPU (docs/benchmarks.md, "Reconnect storm"). Rejects if any write failed.
   */
  recordFleet(updates: readonly FleetUpdate[]): Promise<void>;

  /**
   * Counts by the terminal's `ts`: a window is (nowMs - length, nowMs], a month is 30 days,
   * and an event stamped after nowMs (a clock running ahead) is in no window. Null for an
   * unknown checkpoint.
   */
  checkpointStats(code: string, nowMs: number): Promise<CheckpointStats | null>;
  /**
   * The overview's table in one call, instead of checkpointStats once per checkpoint: one entry
   * for every checkpoint listCheckpoints returns (retired included), sorted by code, whose
   * lastHour, lastDay and byDecision's lastHour and lastDay equal checkpointStats(code, nowMs)'s
   * (the same windows (nowMs - length, nowMs] by the terminal's `ts`); zeros where nothing was
   * scanned. Its cost must not grow with the events in the day: whole hours come from the
   * hourly rollup, only the partial hours at the windows' edges from the events.
   */
  lastDayCounts(nowMs: number): Promise<LastDayCounts[]>;
  /**
   * Scans at a checkpoint per hour or per Asia/Ho_Chi_Minh day (UTC+7, no DST), by the
   * terminal's `ts` in [fromMs, toMs): one bar for every bucket that overlaps the range, in
   * order, zero where nothing was scanned; the first and last bars count only the part inside.
   */
  checkpointHistogram(code: string, fromMs: number, toMs: number, bucket: HistogramBucket): Promise<HistogramBar[]>;
  /** Rejects with StoreError (storeError.ts) `cursor-invalid` or `query-invalid`; limit is 1..1000. */
  searchEvents(query: EventQuery): Promise<EventPage>;
  /** Every terminal ever added, removed ones included, by terminal id. */
  fleet(): Promise<FleetTerminal[]>;

  /**
   * The registered people behind credential refs (64 hex digits, as events carry them):
   * a ref matches a member's ID-number ref or any of their cards' refs, revoked cards
   * included (the log is history). Refs that match no one are absent from the map. Meant
   * for one page of events: one round trip, not one per ref.
   */
  membersByRefs(refs: readonly string[]): Promise<Map<string, MemberSummary>>;

  // Who is inside now (issue 14 page 5).
  /**
   * The people whose last passage (a granted scan the passage sensor did not deny, remote
   * opens aside) was `in`, stamped after sinceMs, newest first. The refs of one registered
   * member (ID number, cards) are one person: their newest passage decides. Refs nobody
   * registered are each a person. A later `in` at a terminal whose clock lags is ignored
   * until it is newer than the stored passage.
   */
  insideNow(sinceMs: number): Promise<InsidePassage[]>;
  /**
   * An operator takes a person out of "inside" (a forgotten exit scan): the ref's passage
   * becomes an `out` at atMs. True when it was `in`; false for an unknown ref or one already out.
   */
  takeOut(ref: string, atMs: number): Promise<boolean>;

  // Commands to terminals, delivered from the store by every central node (issue 15 point 6).
  /**
   * Queues a command. The caller has checked that the terminal exists and is not removed.
   * Rejects with StoreError `command-exists` for an id already queued.
   */
  queueCommand(command: NewTerminalCommand): Promise<void>;
  /** One command by id, acknowledged or not; null for an unknown id. */
  getCommand(id: string): Promise<TerminalCommand | null>;
  /**
   * The commands still to deliver: not acknowledged and expiring after nowMs, by id
   * (lowercase hex order; UUIDv7 ids make it issue order), at most maxOpenCommands. An
   * expired command is never among them. `filter` narrows it (all given conditions hold):
   * ids above `afterId` (the last id of the previous page), one terminal's, or those issued
   * at or after `issuedSinceMs`.
   */
  openCommands(nowMs: number, filter?: OpenCommandsFilter): Promise<TerminalCommand[]>;
  /** A node published the command at atMs: attempts + 1, lastSentAt = atMs. An unknown id changes nothing. */
  commandSent(id: string, atMs: number): Promise<void>;
  /**
   * Records the terminal's ack on its command. Only the first ack counts (a command sent
   * twice is answered twice), and only from the terminal the command was for: true when this
   * ack was recorded, false for an unknown id, another terminal's command, or one acknowledged
   * already. Recorded even after the expiry: the terminal did handle it.
   */
  acknowledgeCommand(terminalId: string, ack: CommandAck, receivedAtMs: number): Promise<boolean>;
}
