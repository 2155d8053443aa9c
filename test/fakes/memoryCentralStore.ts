import type { ScanEvent } from '../../protocol/event.js';
import type { Telemetry, TerminalStatus } from '../../protocol/messages.js';
import type {
  CentralStore,
  Checkpoint,
  CheckpointChanges,
  CheckpointStats,
  EnrollmentRedemption,
  EventPage,
  EventQuery,
  FleetTerminal,
  InsertResult,
  MemberSummary,
  NewCheckpoint,
  NewEnrollmentToken,
  NewTerminal,
  RedeemOutcome,
  SequenceGap,
  TerminalCredentials,
} from '../../broker/store/centralStore.js';

/**
 * An in-memory CentralStore for broker unit tests: the same async answers as the real
 * store for what the broker uses (credentials, checkpoints, exactly-once inserts, fleet
 * records), plus test helpers to retire a checkpoint, fail or hold inserts, and read back
 * what was stored. Statistics and search are deliberately simple.
 */
export class MemoryCentralStore implements CentralStore {
  readonly checkpoints = new Map<string, Checkpoint>();
  /** Mutable, so a test can make a terminal from before schema 3 (`listScopes = null`). */
  readonly terminals = new Map<string, { -readonly [K in keyof TerminalCredentials]: TerminalCredentials[K] }>();
  readonly events = new Map<string, ScanEvent & { receivedAt: string }>();
  readonly statuses: Array<{ terminalId: string; status: TerminalStatus }> = [];
  readonly telemetry: Array<{ terminalId: string; telemetry: Telemetry }> = [];
  readonly connections: Array<{ terminalId: string; online: boolean }> = [];
  /** Who is behind a credential ref (hex), as membersByRefs answers: set what a test needs. */
  readonly members = new Map<string, MemberSummary>();
  /** Every insertEvents call, in order, with its size. */
  readonly insertCalls: number[] = [];
  /** While set, insertEvents rejects with it (a full disk, a lost database). */
  failInsertsWith: Error | null = null;
  /** While set, insertEvents waits for this promise before storing (a slow commit). */
  holdInserts: Promise<void> | null = null;
  readonly enrollmentTokens = new Map<string, NewEnrollmentToken & { used: { device: string; terminalId: string } | null }>();
  closed = false;

  async migrate(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }

  async createCheckpoint(checkpoint: NewCheckpoint): Promise<Checkpoint> {
    if (this.checkpoints.has(checkpoint.code)) throw Object.assign(new Error(`checkpoint ${checkpoint.code} exists`), { code: 'checkpoint-exists' });
    const created = { unit: '', latitude: null, longitude: null, branch: false, ...checkpoint, createdAt: new Date().toISOString(), retiredAt: null };
    this.checkpoints.set(checkpoint.code, created);
    return created;
  }

  async getCheckpoint(code: string): Promise<Checkpoint | null> {
    return this.checkpoints.get(code) ?? null;
  }

  async listCheckpoints(): Promise<Checkpoint[]> {
    return [...this.checkpoints.values()];
  }

  async updateCheckpoint(code: string, changes: CheckpointChanges): Promise<Checkpoint | null> {
    const checkpoint = this.checkpoints.get(code);
    if (!checkpoint) return null;
    if (checkpoint.retiredAt !== null) throw Object.assign(new Error(`checkpoint ${code} retired`), { code: 'checkpoint-retired' });
    const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
    const updated = { ...checkpoint, ...defined };
    this.checkpoints.set(code, updated);
    return updated;
  }

  async retireCheckpoint(code: string): Promise<boolean> {
    const checkpoint = this.checkpoints.get(code);
    if (!checkpoint || checkpoint.retiredAt !== null) return false;
    this.checkpoints.set(code, { ...checkpoint, retiredAt: new Date().toISOString() });
    return true;
  }

  async setTerminalSecret(terminalId: string, secretHash: string): Promise<boolean> {
    const terminal = this.terminals.get(terminalId);
    if (!terminal || terminal.removedAt !== null) return false;
    terminal.secretHash = secretHash;
    return true;
  }

  async addTerminal(terminal: NewTerminal): Promise<void> {
    if (this.terminals.has(terminal.terminalId)) throw new Error(`terminal ${terminal.terminalId} exists`);
    // A copy, as a database row would be: the caller's array changing later changes nothing here.
    this.terminals.set(terminal.terminalId, { ...terminal, listScopes: [...terminal.listScopes], removedAt: null });
  }

  async getTerminalCredentials(terminalId: string): Promise<TerminalCredentials | null> {
    const terminal = this.terminals.get(terminalId);
    return terminal ? { ...terminal, listScopes: terminal.listScopes && [...terminal.listScopes] } : null;
  }

  async removeTerminal(terminalId: string): Promise<boolean> {
    const terminal = this.terminals.get(terminalId);
    if (!terminal || terminal.removedAt !== null) return false;
    terminal.removedAt = new Date().toISOString();
    return true;
  }

  async createEnrollmentToken(token: NewEnrollmentToken): Promise<void> {
    if (!this.checkpoints.has(token.checkpointCode)) throw Object.assign(new Error(`checkpoint ${token.checkpointCode} unknown`), { code: 'checkpoint-unknown' });
    this.enrollmentTokens.set(token.tokenHash, { ...token, used: null });
  }

  /** The order of checks of SqliteEnrollmentTokens.redeem, kept simple. */
  async redeemEnrollmentToken(redemption: EnrollmentRedemption): Promise<RedeemOutcome> {
    const token = this.enrollmentTokens.get(redemption.tokenHash);
    if (!token) return { ok: false, reason: 'unknown' };
    const retired = this.checkpoints.get(token.checkpointCode)?.retiredAt != null;
    const granted = (terminalId: string, reissued: boolean): RedeemOutcome => ({ ok: true, terminalId, checkpointCode: token.checkpointCode, listScopes: token.listScopes, reissued });
    if (token.used) {
      const terminal = this.terminals.get(token.used.terminalId);
      if (token.used.device !== redemption.device || !terminal || terminal.removedAt !== null) return { ok: false, reason: 'replayed' };
      if (retired) return { ok: false, reason: 'checkpoint-retired' };
      terminal.secretHash = redemption.secretHash;
      return granted(terminal.terminalId, true);
    }
    if (token.expiresAtMs <= redemption.nowMs) return { ok: false, reason: 'expired' };
    if (retired) return { ok: false, reason: 'checkpoint-retired' };
    await this.addTerminal({ terminalId: redemption.terminalId, checkpointCode: token.checkpointCode, secretHash: redemption.secretHash, listScopes: token.listScopes });
    token.used = { device: redemption.device, terminalId: redemption.terminalId };
    return granted(redemption.terminalId, false);
  }

  async insertEvents(events: readonly ScanEvent[], receivedAtMs: number): Promise<InsertResult> {
    this.insertCalls.push(events.length);
    if (this.holdInserts) await this.holdInserts;
    if (this.failInsertsWith) throw this.failInsertsWith;
    const stored: ScanEvent[] = [];
    for (const event of events) {
      if (this.events.has(event.id)) continue;
      this.events.set(event.id, { ...event, receivedAt: new Date(receivedAtMs).toISOString() });
      stored.push(event);
    }
    return { inserted: stored.length, duplicates: events.length - stored.length, stored };
  }

  async gaps(): Promise<SequenceGap[]> {
    return [];
  }

  async recordStatus(terminalId: string, status: TerminalStatus): Promise<void> {
    this.statuses.push({ terminalId, status });
  }

  async recordTelemetry(terminalId: string, telemetry: Telemetry): Promise<void> {
    this.telemetry.push({ terminalId, telemetry });
  }

  async recordConnection(terminalId: string, online: boolean): Promise<void> {
    this.connections.push({ terminalId, online });
  }

  async checkpointStats(): Promise<CheckpointStats | null> {
    return null;
  }

  async searchEvents(query: EventQuery): Promise<EventPage> {
    const events = [...this.events.values()]
      .filter(
        (e) =>
          (query.terminal === undefined || e.terminalId === query.terminal) &&
          (query.checkpoint === undefined || e.checkpointCode === query.checkpoint) &&
          (query.checkpoints === undefined || query.checkpoints.includes(e.checkpointCode)),
      )
      .slice(0, query.limit);
    return { events, nextCursor: null };
  }

  async fleet(): Promise<FleetTerminal[]> {
    return [];
  }

  async membersByRefs(refs: readonly string[]): Promise<Map<string, MemberSummary>> {
    const found = new Map<string, MemberSummary>();
    for (const ref of refs) {
      const member = this.members.get(ref);
      if (member) found.set(ref, member);
    }
    return found;
  }
}
