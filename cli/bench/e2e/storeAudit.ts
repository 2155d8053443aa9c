import Database from 'better-sqlite3';
import pg from 'pg';

/**
 * Reads the bench's outcome straight from the central's store, through a connection of its
 * own (SQLite: read-only, WAL lets it read while the writer runs; PostgreSQL: a client of its
 * own on the bench's database): how many of the bench's events are stored, which recorded
 * decisions are missing or stored twice, and each event's latency as `received_at - ts` (both
 * ms on this machine's clock: the central's commit time minus the terminal's decision time).
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

/** Where the target's events are stored, for the bench to read them back. */
export type AuditedStore = { readonly type: 'sqlite'; readonly file: string } | { readonly type: 'postgres'; readonly url: string };

export interface StoreReader {
  /** Rows of the bench's terminals right now (an index range count). */
  count(): Promise<number>;
  /** `recorded`: decisions per terminal id, whose seqs are 1..count. */
  audit(recorded: ReadonlyMap<string, number>): Promise<StoreAudit>;
  close(): Promise<void>;
}

interface Row {
  readonly terminalId: string;
  readonly seq: number;
  readonly ts: number;
  readonly receivedAt: number;
}

/** `terminalIds` all start with `prefix-`. */
export function openStoreReader(store: AuditedStore, prefix: string, terminalIds: readonly string[]): StoreReader {
  return store.type === 'sqlite' ? new SqliteStoreReader(store.file, prefix) : new PostgresStoreReader(store.url, terminalIds);
}

/** The audit over the rows of the bench's terminals, in any order: the same for every store. */
export function auditRows(rows: Iterable<Row>, recorded: ReadonlyMap<string, number>): StoreAudit {
  const seen = new Map<string, Uint8Array>();
  for (const [terminalId, count] of recorded) seen.set(terminalId, new Uint8Array(count + 1));
  const latenciesMs: number[] = [];
  let stored = 0;
  let duplicated = 0;
  let unexpected = 0;
  let firstReceivedMs = Infinity;
  let lastReceivedMs = -Infinity;
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

class SqliteStoreReader implements StoreReader {
  private db: Database.Database | null = null;
  private readonly range: [string, string];

  constructor(
    private readonly file: string,
    prefix: string,
  ) {
    // Every id starting with `prefix-` sorts in [prefix-, prefix.): '.' follows '-' in ASCII.
    this.range = [`${prefix}-`, `${prefix}.`];
  }

  async count(): Promise<number> {
    return this.open().prepare<[string, string], number>('SELECT count(*) FROM events WHERE terminal_id >= ? AND terminal_id < ?').pluck().get(...this.range) ?? 0;
  }

  async audit(recorded: ReadonlyMap<string, number>): Promise<StoreAudit> {
    const rows = this.open()
      .prepare<[string, string], Row>('SELECT terminal_id AS terminalId, seq, ts, received_at AS receivedAt FROM events WHERE terminal_id >= ? AND terminal_id < ?')
      .iterate(...this.range);
    return auditRows(rows, recorded);
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = null;
  }

  private open(): Database.Database {
    this.db ??= new Database(this.file, { readonly: true, fileMustExist: true });
    return this.db;
  }
}

/**
 * The central's tables in the `public` schema of the bench's own database (e2eBench.ts makes
 * one per run). The bench's terminals by name, not by a prefix range: under a locale's
 * collation (en_US) '-' does not sort as in ASCII, and forcing "C" would forgo the
 * events_terminal index the count polls through (so `unexpected` counts only seqs the bench
 * never recorded: the database is the run's own anyway). bigint columns come back from pg as
 * strings: cast to float8, exact for ms timestamps and seqs far below 2^53.
 */
class PostgresStoreReader implements StoreReader {
  private client: Promise<pg.Client> | null = null;

  constructor(
    private readonly url: string,
    private readonly terminalIds: readonly string[],
  ) {}

  async count(): Promise<number> {
    const { rows } = await (await this.open()).query<{ n: number }>('SELECT count(*)::float8 AS n FROM events WHERE terminal_id = ANY($1)', [this.terminalIds]);
    return rows[0]?.n ?? 0;
  }

  async audit(recorded: ReadonlyMap<string, number>): Promise<StoreAudit> {
    // A few hundred thousand rows of four numbers fit in memory; pg has no row iterator without pg-cursor.
    const { rows } = await (
      await this.open()
    ).query<Row>('SELECT terminal_id AS "terminalId", seq::float8 AS seq, ts::float8 AS ts, received_at::float8 AS "receivedAt" FROM events WHERE terminal_id = ANY($1)', [this.terminalIds]);
    return auditRows(rows, recorded);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (client) await (await client).end();
  }

  private open(): Promise<pg.Client> {
    this.client ??= (async () => {
      const client = new pg.Client({ connectionString: this.url });
      await client.connect();
      return client;
    })();
    return this.client;
  }
}
