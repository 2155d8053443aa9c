/**
 * The registry's database, whichever engine holds it (issue 15 point 4). Members, cards,
 * accounts, the audit log, list versions and roll calls are written by the CLI and the API
 * alike through plain SQL; this is the one small interface that SQL runs on, so one module
 * per job serves SQLite (sqliteRegistryDb.ts) and PostgreSQL (pgRegistryDb.ts) with the
 * same statements. It is async because PostgreSQL is; on SQLite every call completes at once.
 *
 * Writing SQL that runs on both:
 * - Parameters are `?`, bound in order (PostgreSQL's `$n` are made from them).
 * - camelCase column aliases are double-quoted (`AS "createdAtMs"`): PostgreSQL folds
 *   unquoted names to lower case.
 * - A parameter whose type only its context could tell (`? IS NULL`, `coalesce(?, …)`) is cast:
 *   `CAST(? AS text)`, `CAST(? AS bigint)`; SQLite reads the same casts.
 * - No JS booleans (SQLite cannot bind them): 0/1. A boolean expression in a select list is
 *   `CASE WHEN … THEN 1 ELSE 0 END`: PostgreSQL would return true/false.
 * - New ids come back with `INSERT … RETURNING`; upserts are `ON CONFLICT … DO …`.
 * - Where the engines truly differ (JSON functions, string aggregation), branch on `dialect`.
 */

/** What a statement may be bound to: what both drivers take and give back the same. */
export type SqlValue = string | number | Buffer | null;

export type SqlDialect = 'sqlite' | 'postgres';

export interface RegistryDb {
  readonly dialect: SqlDialect;
  /** Every row. */
  all<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** The first row, or undefined. */
  get<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row | undefined>;
  /** The first column of every row. */
  column<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The first column of the first row, or undefined. */
  value<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** A statement returning no rows; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /**
   * Runs `work` in one transaction on `tx`: committed when it resolves, rolled back when it
   * throws. Only `tx` may be used inside; nothing else runs on the connection meanwhile
   * (SQLite) or sees its writes before the commit (PostgreSQL). A transaction inside a
   * transaction joins the outer one. Do no slow I/O inside: on SQLite the write lock is held.
   */
  transaction<T>(work: (tx: RegistryDb) => Promise<T>): Promise<T>;
  /**
   * Runs `work`'s reads on one moment of the database, taking no write lock: for a read of
   * many statements (keyset pages of a million rows) that must add up, such as a list
   * publish, while imports and the API go on writing. SQLite: a deferred transaction (WAL
   * snapshot from the first read; nothing else runs on this connection meanwhile).
   * PostgreSQL: REPEATABLE READ READ ONLY. Inside a transaction it joins that one. No writes.
   */
  readTransaction<T>(work: (tx: RegistryDb) => Promise<T>): Promise<T>;
}

/** An open registry database and how to let it go. */
export interface RegistryHandle {
  readonly db: RegistryDb;
  close(): Promise<void>;
}

/** `?, ?, ?` for an IN list or a multi-row VALUES of `count` parameters. */
export function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

/** A unique or primary-key constraint refused the write, on either engine. */
export function isUniqueViolation(err: unknown): boolean {
  const code = errorCode(err);
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** A foreign key refused the write (a row it names is missing, or rows still name this one). */
export function isForeignKeyViolation(err: unknown): boolean {
  const code = errorCode(err);
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/** A CHECK constraint refused the write. */
export function isCheckViolation(err: unknown): boolean {
  const code = errorCode(err);
  return code === '23514' || code === 'SQLITE_CONSTRAINT_CHECK';
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : undefined;
}
