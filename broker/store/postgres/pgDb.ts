import pg from 'pg';

/**
 * Connections for the PostgreSQL store: one pool per store, and a transaction helper that
 * retries what PostgreSQL itself asks to retry.
 */

export interface PgConnectionOptions {
  /** `postgresql://user:password@host:port/database` (node-postgres connection string). */
  readonly url: string;
  /**
   * The schema the store's tables live in (default `public`): several stores can share one
   * database, as the tests do. Created if missing. Letters, digits and `_` only.
   */
  readonly schema?: string;
  /** Pool size. Default 10: ingestion's commits, the API's reads and provisioning at once. */
  readonly maxConnections?: number;
  /**
   * PostgreSQL's synchronous_commit for this store's sessions. Default `on`: insertEvents
   * resolves once the commit is on disk, which DESIGN.md asks before a terminal may drop the
   * event. `off` (tests, benches measuring something else) may lose the last commits if the
   * database server crashes, never corrupts.
   */
  readonly synchronousCommit?: 'on' | 'off';
}

const int8Oid = 20;
const numericOid = 1700;

/**
 * bigint (epoch ms, counts, sequence numbers) and numeric (sum() of bigint) come back as
 * numbers: every value the store keeps is far below 2^53. Per pool, not node-postgres's
 * global parser table, so nothing else in the process is changed.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === int8Oid || oid === numericOid) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

const schemaPattern = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * What a pool does with an idle connection the server ended (a restart, a failover, an
 * administrator's pg_terminate_backend): the pool has already dropped it and the next query
 * opens a new one, so this only reports it. The pool says so as an 'error' event, which Node
 * throws when nobody listens: without a listener, one idle connection ended on the server
 * stopped the whole central. Every pool gets one, hence a parameter, not an option.
 */
export type OnConnectionLost = (err: Error) => void;

/** For a pool whose owner has no log (a one-shot command, a publish thread): the next query says it if the server is gone. */
export const ignoreConnectionLost: OnConnectionLost = () => {};

export function createPool(options: PgConnectionOptions, onConnectionLost: OnConnectionLost): pg.Pool {
  const schema = options.schema ?? 'public';
  if (!schemaPattern.test(schema)) throw new Error(`PostgreSQL schema name ${JSON.stringify(schema)}: use lower-case letters, digits and _`);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    types,
    // Every connection resolves the store's tables (and the partitions it creates) in its schema.
    options: `-c search_path=${schema} -c synchronous_commit=${options.synchronousCommit ?? 'on'}`,
    application_name: 'qrgate-central',
    // A server that is down or unreachable fails the call (and ingestion's commit, which the
    // terminal retries) instead of leaving it waiting for a connection forever.
    connectionTimeoutMillis: 10_000,
    // A connection through a NAT or firewall that silently dropped it is noticed.
    keepAlive: true,
  });
  pool.on('error', onConnectionLost);
  return pool;
}

/** serialization_failure and deadlock_detected: the transaction rolled back whole and may be run again. */
const retryableCodes = new Set(['40001', '40P01']);

/**
 * Runs `work` in one transaction on one pooled connection. A transaction PostgreSQL aborted
 * as a deadlock victim or serialization failure is run again (up to 3 times): it changed
 * nothing. The store orders its locks so it should not deadlock; this is the safety net.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, isolation = 'READ COMMITTED'): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr as Error;
      }
      if (attempt < 3 && retryableCodes.has(pgErrorCode(err) ?? '')) continue;
      throw err;
    } finally {
      client.release(broken);
    }
  }
}

export function pgErrorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : undefined;
}

/** The constraint a unique or foreign-key violation names, to tell which one fired. */
export function pgConstraint(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as { constraint?: string }).constraint : undefined;
}
