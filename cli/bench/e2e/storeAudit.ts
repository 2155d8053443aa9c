import Database from 'better-sqlite3';

/**
 * Reads the bench's outcome straight from the central's SQLite file, through a read-only
 * connection of its own (WAL lets it read while the writer runs): how many of the bench's
 * events are stored, which recorded decisions are missing or stored twice, and each event's
 * latency as `received_at - ts` (both ms on this machine's clock: the central's commit
 * time minus the terminal's decision time).
 *
 * Only rows of the bench's own terminals count (their ids share `prefix`): a third-party
 * broker may carry other traffic into the same worker.
 */

export interface StoreAudit {
  /** Rows of the bench's terminals. */
  readonly stored: number;
  /** Recorded decisions (terminal, seq) with no row. */
  readonly lost: number;
  /** Rows beyond one per recorded decision (the same terminal and seq stored twice, under any id). */
  readonly duplicated: number;
  /** Rows for a terminal or a seq the bench never recorded. */
  readonly unexpected: number;
  /** Ascending. */
  readonly latenciesMs: readonly number[];
  readonly firstReceivedMs: number;
  readonly lastReceivedMs: number;
}

interface Row {
  readonly terminalId: string;
  readonly seq: number;
  readonly ts: number;
  readonly receivedAt: number;
}

export class StoreReader {
  private db: Database.Database | null = null;
  private readonly range: readonly [string, string];

  constructor(
    private readonly file: string,
    prefix: string,
  ) {
    // Every id starting with `prefix-` sorts in [prefix-, prefix.): '.' follows '-' in ASCII.
    this.range = [`${prefix}-`, `${prefix}.`];
  }

  /** Rows of the bench's terminals right now (an index range count). */
  count(): number {
    return this.open().prepare<[string, string], number>('SELECT count(*) FROM events WHERE terminal_id >= ? AND terminal_id < ?').pluck().get(...this.range) ?? 0;
  }

  /** `recorded`: decisions per terminal id, whose seqs are 1..count. */
  audit(recorded: ReadonlyMap<string, number>): StoreAudit {
    const seen = new Map<string, Uint8Array>();
    for (const [terminalId, count] of recorded) seen.set(terminalId, new Uint8Array(count + 1));
    const latenciesMs: number[] = [];
    let stored = 0;
    let duplicated = 0;
    let unexpected = 0;
    let firstReceivedMs = Infinity;
    let lastReceivedMs = -Infinity;
    const rows = this.open()
      .prepare<[string, string], Row>('SELECT terminal_id AS terminalId, seq, ts, received_at AS receivedAt FROM events WHERE terminal_id >= ? AND terminal_id < ?')
      .iterate(...this.range);
    for (const row of rows) {
      stored++;
      latenciesMs.push(row.receivedAt - row.ts);
      firstReceivedMs = Math.min(firstReceivedMs, row.receivedAt);
      lastReceivedMs = Math.max(lastReceivedMs, row.receivedAt);
      const seqs = seen.get(row.terminalId);
      if (!seqs || row.seq < 1 || row.seq >= seqs.length) unexpected++;
      else if (seqs[row.seq] === 1) duplicated++;
      else seqs[row.seq] = 1;
    }
    let lost = 0;
    for (const seqs of seen.values()) for (let seq = 1; seq < seqs.length; seq++) if (seqs[seq] === 0) lost++;
    latenciesMs.sort((a, b) => a - b);
    return { stored, lost, duplicated, unexpected, latenciesMs, firstReceivedMs, lastReceivedMs };
  }

  close(): void {
    this.db?.close();
    this.db = null;
  }

  private open(): Database.Database {
    this.db ??= new Database(this.file, { readonly: true, fileMustExist: true });
    return this.db;
  }
}
