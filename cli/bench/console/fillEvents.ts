import { createHash } from 'node:crypto';
import type { Decision, Direction, Reason, ScanEvent } from '../../../protocol/event.js';
import { uuidv7 } from '../../../protocol/uuidv7.js';
import { rebuildHourlyCounts } from '../../../broker/store/sqliteHourlyCounts.js';
import { openCentralDb } from '../../../broker/store/sqliteSchema.js';

export interface FillOptions {
  /** The central's store file; migrated here if new. The central must not be running. */
  readonly storeFile: string;
  /** Registered checkpoints the events spread over evenly. */
  readonly checkpoints: readonly string[];
  readonly terminalsPerCheckpoint: number;
  readonly events: number;
  /** The events are evenly spaced over (endMs - spanMs, endMs]. */
  readonly endMs: number;
  readonly spanMs: number;
  readonly log: (line: string) => void;
}

/** Rows per transaction: large, since nothing else uses the file while it fills. */
const rowsPerTransaction = 100_000;
/** Distinct people in the log: refs repeat as they would at real gates. */
const peopleCount = 20_000;

const outcomes: readonly { decision: Decision; reason: Reason; passed: boolean | null }[] = [
  ...Array.from({ length: 45 }, () => ({ decision: 'granted' as const, reason: 'allowed' as const, passed: true })),
  { decision: 'refused', reason: 'unknown', passed: null },
  { decision: 'refused', reason: 'denied', passed: null },
  { decision: 'refused', reason: 'unknown', passed: null },
  { decision: 'refused', reason: 'denied', passed: null },
  { decision: 'duplicate', reason: 'debounce', passed: null },
];

/** A bench terminal: its identity and the last sequence number it used. */
export interface BenchTerminal {
  readonly terminalId: string;
  readonly code: string;
  readonly bootId: string;
  seq: number;
}

/** The distinct people of a bench's log (credential refs): refs repeat as they would at real gates. */
export function benchPeople(): readonly string[] {
  return Array.from({ length: peopleCount }, (_, i) => createHash('sha256').update(`bench person ${i}`).digest('hex'));
}

/**
 * The i-th event of a bench's log at `terminal`, stamped tsMs: the mix of decisions in
 * `outcomes`, in and out by turns. Takes the terminal's next sequence number.
 */
export function syntheticEvent(i: number, terminal: BenchTerminal, tsMs: number, people: readonly string[]): ScanEvent {
  const outcome = outcomes[(i * 7919) % outcomes.length]!;
  const direction: Direction = i % 2 === 0 ? 'in' : 'out';
  return {
    id: uuidv7(tsMs),
    terminalId: terminal.terminalId,
    checkpointCode: terminal.code,
    lane: direction,
    direction,
    seq: ++terminal.seq,
    bootId: terminal.bootId,
    ts: new Date(tsMs).toISOString(),
    clockTrusted: true,
    credentialType: 'cccd',
    credentialRef: people[(i * 104_729) % people.length]!,
    listVersion: 7,
    decision: outcome.decision,
    reason: outcome.reason,
    passback: false,
    passed: outcome.passed,
    latencyMs: 41.5,
  };
}

/**
 * Fills a central store with `events` scan events straight through SQL, in the store's own
 * schema (sqliteSchema.ts migrates the file first) and in its own row format (the same
 * columns and event JSON sqliteEventWriter.ts writes), in large transactions: going
 * through insertEvents' group commits would take the bench's whole time budget at 10
 * million rows. Each row carries its credential ref column (events_credential, the log's
 * filter by person) as the writer stores it. The stats rollup is then rebuilt from the events with the migration's own
 * backfill, and each terminal's sequence set to its last number (no gaps reported).
 */
export function fillEvents(options: FillOptions): { readonly filledMs: number } {
  const started = performance.now();
  const db = openCentralDb(options.storeFile, { synchronous: 'NORMAL' });
  try {
    // Nothing else has the file open: a crash here only loses a bench's scratch database.
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    const insert = db.prepare<[string, string, string, string, string, string, string, string, number, string, number, number, string, string | null]>(
      `INSERT INTO events (id, checkpoint_code, terminal_id, lane, direction, decision, reason, credential_type, seq, boot_id, ts, received_at, event, credential_ref)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, unhex(?))`,
    );
    const terminals: BenchTerminal[] = options.checkpoints.flatMap((code, c) =>
      Array.from({ length: options.terminalsPerCheckpoint }, (_, t) => ({
        terminalId: `fill-${c}-${t}`,
        code,
        bootId: uuidv7(options.endMs - options.spanMs),
        seq: 0,
      })),
    );
    const people = benchPeople();
    const stepMs = options.spanMs / options.events;
    const firstMs = options.endMs - options.spanMs;
    const fillRange = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const tsMs = Math.floor(firstMs + (i + 1) * stepMs);
        const event = syntheticEvent(i, terminals[i % terminals.length]!, tsMs, people);
        insert.run(event.id, event.checkpointCode, event.terminalId, event.lane, event.direction, event.decision, event.reason, event.credentialType, event.seq, event.bootId, tsMs, tsMs + 250, JSON.stringify(event), event.credentialRef);
      }
    });
    // The secondary indexes are built once at the end, from their own definitions: one sort
    // each instead of three index insertions per row.
    const indexes = db.prepare<[], { name: string; sql: string }>("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL").all();
    for (const index of indexes) db.exec(`DROP INDEX ${index.name}`);
    for (let from = 0; from < options.events; from += rowsPerTransaction) {
      fillRange(from, Math.min(options.events, from + rowsPerTransaction));
      if ((from / rowsPerTransaction) % 10 === 9) options.log(`${from + rowsPerTransaction} events stored in ${Math.round(performance.now() - started)} ms`);
    }
    for (const index of indexes) db.exec(index.sql);
    options.log(`indexes built in ${Math.round(performance.now() - started)} ms`);
    const setSequence = db.prepare<[string, number, number]>('INSERT OR REPLACE INTO terminal_sequence (terminal_id, max_seq, last_event_at_ms) VALUES (?, ?, ?)');
    db.transaction(() => {
      for (const terminal of terminals) if (terminal.seq > 0) setSequence.run(terminal.terminalId, terminal.seq, options.endMs);
    })();
    rebuildHourlyCounts(db);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.pragma('optimize');
  } finally {
    db.close();
  }
  return { filledMs: performance.now() - started };
}
