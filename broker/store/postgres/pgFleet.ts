import type pg from 'pg';
import type { Telemetry, TerminalStatus } from '../../../protocol/messages.js';
import type { FleetTerminal, SequenceGap } from '../centralStore.js';
import { msToIsoOrNull } from '../time.js';

/**
 * Fleet state on PostgreSQL, as sqliteFleet.ts: every update is an upsert in which a group of
 * columns is replaced only by something at least as new as what it holds (its `*_at_ms`).
 * One statement each, so two centrals recording the same terminal cannot interleave halves.
 */

/** SET clauses replacing `columns` only when the incoming `atColumn` is not older. greatest() skips NULLs. */
function newerWins(atColumn: string, columns: readonly string[]): string[] {
  const isNewer = `excluded.${atColumn} >= coalesce(fleet_state.${atColumn}, excluded.${atColumn})`;
  return [
    ...columns.map((column) => `${column} = CASE WHEN ${isNewer} THEN excluded.${column} ELSE fleet_state.${column} END`),
    `${atColumn} = greatest(fleet_state.${atColumn}, excluded.${atColumn})`,
  ];
}

/** Keeps the later of the two; NULL means "not a sign of life". */
const lastSeenWins = 'last_seen_at_ms = greatest(fleet_state.last_seen_at_ms, excluded.last_seen_at_ms)';

function upsert(columns: readonly string[], set: readonly string[]): string {
  return `INSERT INTO fleet_state (terminal_id, ${columns.join(', ')}) VALUES ($1, ${columns.map((_, i) => `$${i + 2}`).join(', ')})
    ON CONFLICT (terminal_id) DO UPDATE SET ${set.join(', ')}`;
}

const connectionSql = upsert(['online', 'online_at_ms', 'last_seen_at_ms'], [...newerWins('online_at_ms', ['online']), lastSeenWins]);
const statusSql = upsert(
  ['online', 'online_at_ms', 'status', 'status_at_ms', 'boot_id', 'boot_at_ms', 'last_seen_at_ms'],
  [...newerWins('online_at_ms', ['online']), ...newerWins('status_at_ms', ['status']), ...newerWins('boot_at_ms', ['boot_id']), lastSeenWins],
);
const telemetrySql = upsert(
  ['telemetry', 'telemetry_at_ms', 'boot_id', 'boot_at_ms', 'last_seen_at_ms'],
  [...newerWins('telemetry_at_ms', ['telemetry']), ...newerWins('boot_at_ms', ['boot_id']), lastSeenWins],
);

const fleetSql = `
  SELECT t.terminal_id AS "terminalId", t.checkpoint_code AS "checkpointCode", t.removed_at_ms AS "removedAtMs",
    c.retired_at_ms AS "checkpointRetiredAtMs", f.online, f.last_seen_at_ms AS "lastSeenAtMs", f.boot_id AS "bootId", f.telemetry,
    s.max_seq AS "maxSeq", s.last_event_at_ms AS "lastEventAtMs"
  FROM terminals t
  LEFT JOIN checkpoints c ON c.code = t.checkpoint_code
  LEFT JOIN fleet_state f ON f.terminal_id = t.terminal_id
  LEFT JOIN terminal_sequence s ON s.terminal_id = t.terminal_id
  ORDER BY t.terminal_id COLLATE "C"`;

const gapColumns = 'SELECT terminal_id AS "terminalId", from_seq AS "fromSeq", to_seq AS "toSeq" FROM sequence_gaps';
const gapsSql = `${gapColumns} ORDER BY terminal_id COLLATE "C", from_seq`;
const terminalGapsSql = `${gapColumns} WHERE terminal_id = $1 ORDER BY from_seq`;

interface FleetRow {
  readonly terminalId: string;
  readonly checkpointCode: string;
  readonly removedAtMs: number | null;
  readonly checkpointRetiredAtMs: number | null;
  readonly online: boolean | null;
  readonly lastSeenAtMs: number | null;
  readonly lastEventAtMs: number | null;
  readonly bootId: string | null;
  /** json: parsed by node-postgres. */
  readonly telemetry: Telemetry | null;
  readonly maxSeq: number | null;
}

export class PgFleet {
  constructor(private readonly pool: pg.Pool) {}

  /** A connect is a sign of life; a disconnect is not. */
  async recordConnection(terminalId: string, online: boolean, atMs: number): Promise<void> {
    await this.pool.query(connectionSql, [terminalId, online, atMs, online ? atMs : null]);
  }

  /** An `offline` status is the terminal's will, published by the broker: not a sign of life. */
  async recordStatus(terminalId: string, status: TerminalStatus, atMs: number): Promise<void> {
    const online = status.state === 'online';
    await this.pool.query(statusSql, [terminalId, online, atMs, JSON.stringify(status), atMs, status.bootId, atMs, online ? atMs : null]);
  }

  async recordTelemetry(terminalId: string, telemetry: Telemetry, atMs: number): Promise<void> {
    await this.pool.query(telemetrySql, [terminalId, JSON.stringify(telemetry), atMs, telemetry.bootId, atMs, atMs]);
  }

  async gaps(terminalId?: string): Promise<SequenceGap[]> {
    const result = terminalId === undefined ? await this.pool.query<SequenceGap>(gapsSql) : await this.pool.query<SequenceGap>(terminalGapsSql, [terminalId]);
    return result.rows;
  }

  async list(): Promise<FleetTerminal[]> {
    const [gaps, fleet] = await Promise.all([this.gaps(), this.pool.query<FleetRow>(fleetSql)]);
    const gapsByTerminal = new Map<string, SequenceGap[]>();
    for (const gap of gaps) {
      const list = gapsByTerminal.get(gap.terminalId);
      if (list) list.push(gap);
      else gapsByTerminal.set(gap.terminalId, [gap]);
    }
    return fleet.rows.map((row) => ({
      terminalId: row.terminalId,
      checkpointCode: row.checkpointCode,
      online: row.online === true,
      lastSeenAt: msToIsoOrNull(latest(row.lastSeenAtMs, row.lastEventAtMs)),
      bootId: row.bootId,
      telemetry: row.telemetry,
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
