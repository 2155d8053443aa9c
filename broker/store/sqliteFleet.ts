import type { Telemetry, TerminalStatus } from '../../protocol/messages.js';
import type { FleetTerminal, SequenceGap } from './centralStore.js';
import type { CentralDb } from './sqliteSchema.js';
import { msToIsoOrNull } from './time.js';

/**
 * Fleet state: what the operator's "which terminals are offline or stale" view reads.
 * Every update is an upsert in which a group of columns is only replaced by something at
 * least as new as what it holds (its `*_at_ms`), so a status handled after a later
 * disconnect cannot mark a terminal online again.
 */

/** SET clauses replacing `columns` only when the incoming `atColumn` is not older. */
function newerWins(atColumn: string, columns: readonly string[]): string[] {
  const isNewer = `excluded.${atColumn} >= coalesce(${atColumn}, excluded.${atColumn})`;
  return [
    ...columns.map((column) => `${column} = iif(${isNewer}, excluded.${column}, ${column})`),
    `${atColumn} = max(coalesce(${atColumn}, excluded.${atColumn}), excluded.${atColumn})`,
  ];
}

/** Keeps the later of the two; NULL means "not a sign of life". */
const lastSeenWins = 'last_seen_at_ms = max(coalesce(last_seen_at_ms, excluded.last_seen_at_ms), coalesce(excluded.last_seen_at_ms, last_seen_at_ms))';

function upsert(columns: readonly string[], set: readonly string[]): string {
  return `INSERT INTO fleet_state (terminal_id, ${columns.join(', ')}) VALUES (@terminalId, ${columns.map((c) => `@${c}`).join(', ')})
    ON CONFLICT (terminal_id) DO UPDATE SET ${set.join(', ')}`;
}

interface FleetRow {
  readonly terminalId: string;
  readonly checkpointCode: string;
  readonly removedAtMs: number | null;
  readonly checkpointRetiredAtMs: number | null;
  readonly online: number | null;
  readonly lastSeenAtMs: number | null;
  readonly lastEventAtMs: number | null;
  readonly bootId: string | null;
  readonly telemetry: string | null;
  readonly maxSeq: number | null;
}

interface GapRow {
  readonly terminalId: string;
  readonly fromSeq: number;
  readonly toSeq: number;
}

type Params = Record<string, string | number | null>;

export class SqliteFleet {
  private readonly upsertConnection;
  private readonly upsertStatus;
  private readonly upsertTelemetry;
  private readonly selectFleet;
  private readonly selectGaps;
  private readonly selectTerminalGaps;

  constructor(db: CentralDb) {
    this.upsertConnection = db.prepare<Params>(
      upsert(['online', 'online_at_ms', 'last_seen_at_ms'], [...newerWins('online_at_ms', ['online']), lastSeenWins]),
    );
    this.upsertStatus = db.prepare<Params>(
      upsert(
        ['online', 'online_at_ms', 'status', 'status_at_ms', 'boot_id', 'boot_at_ms', 'last_seen_at_ms'],
        [...newerWins('online_at_ms', ['online']), ...newerWins('status_at_ms', ['status']), ...newerWins('boot_at_ms', ['boot_id']), lastSeenWins],
      ),
    );
    this.upsertTelemetry = db.prepare<Params>(
      upsert(
        ['telemetry', 'telemetry_at_ms', 'boot_id', 'boot_at_ms', 'last_seen_at_ms'],
        [...newerWins('telemetry_at_ms', ['telemetry']), ...newerWins('boot_at_ms', ['boot_id']), lastSeenWins],
      ),
    );
    this.selectFleet = db.prepare<[], FleetRow>(
      `SELECT t.terminal_id AS terminalId, t.checkpoint_code AS checkpointCode, t.removed_at_ms AS removedAtMs,
         c.retired_at_ms AS checkpointRetiredAtMs, f.online AS online, f.last_seen_at_ms AS lastSeenAtMs, f.boot_id AS bootId, f.telemetry AS telemetry,
         s.max_seq AS maxSeq, s.last_event_at_ms AS lastEventAtMs
       FROM terminals t
       LEFT JOIN checkpoints c ON c.code = t.checkpoint_code
       LEFT JOIN fleet_state f ON f.terminal_id = t.terminal_id
       LEFT JOIN terminal_sequence s ON s.terminal_id = t.terminal_id
       ORDER BY t.terminal_id`,
    );
    const gapColumns = 'SELECT terminal_id AS terminalId, from_seq AS fromSeq, to_seq AS toSeq FROM sequence_gaps';
    this.selectGaps = db.prepare<[], GapRow>(`${gapColumns} ORDER BY terminal_id, from_seq`);
    this.selectTerminalGaps = db.prepare<[string], GapRow>(`${gapColumns} WHERE terminal_id = ? ORDER BY from_seq`);
  }

  /** A connect is a sign of life; a disconnect is not (keepalive noticed the silence later). */
  recordConnection(terminalId: string, online: boolean, atMs: number): void {
    this.upsertConnection.run({ terminalId, online: online ? 1 : 0, online_at_ms: atMs, last_seen_at_ms: online ? atMs : null });
  }

  /** An `offline` status is the terminal's will, published by the broker: not a sign of life. */
  recordStatus(terminalId: string, status: TerminalStatus, atMs: number): void {
    const online = status.state === 'online';
    this.upsertStatus.run({
      terminalId,
      online: online ? 1 : 0,
      online_at_ms: atMs,
      status: JSON.stringify(status),
      status_at_ms: atMs,
      boot_id: status.bootId,
      boot_at_ms: atMs,
      last_seen_at_ms: online ? atMs : null,
    });
  }

  recordTelemetry(terminalId: string, telemetry: Telemetry, atMs: number): void {
    this.upsertTelemetry.run({
      terminalId,
      telemetry: JSON.stringify(telemetry),
      telemetry_at_ms: atMs,
      boot_id: telemetry.bootId,
      boot_at_ms: atMs,
      last_seen_at_ms: atMs,
    });
  }

  gaps(terminalId?: string): SequenceGap[] {
    return terminalId === undefined ? this.selectGaps.all() : this.selectTerminalGaps.all(terminalId);
  }

  list(): FleetTerminal[] {
    const gapsByTerminal = new Map<string, SequenceGap[]>();
    for (const gap of this.selectGaps.all()) {
      const list = gapsByTerminal.get(gap.terminalId);
      if (list) list.push(gap);
      else gapsByTerminal.set(gap.terminalId, [gap]);
    }
    return this.selectFleet.all().map((row) => ({
      terminalId: row.terminalId,
      checkpointCode: row.checkpointCode,
      online: row.online === 1,
      lastSeenAt: msToIsoOrNull(latest(row.lastSeenAtMs, row.lastEventAtMs)),
      bootId: row.bootId,
      telemetry: row.telemetry === null ? null : (JSON.parse(row.telemetry) as Telemetry),
      lastSeq: row.maxSeq,
      gaps: gapsByTerminal.get(row.terminalId) ?? [],
      removed: row.removedAtMs !== null,
      checkpointRetired: row.checkpointRetiredAtMs !== null,
    }));
  }
}

function latest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
