import type pg from 'pg';
import { inTransaction } from '../postgres/pgDb.js';
import type { RegistryDb, SqlValue } from './registryDb.js';

/**
 * RegistryDb on a node-postgres pool (the store's own, or one of its kind: createPool sets
 * bigint to come back as a number). A transaction holds one pooled connection for its work
 * and is retried whole on a deadlock or serialization failure (inTransaction), so its work
 * must do nothing outside `tx` that cannot be done twice.
 */
export function pgRegistryDb(pool: pg.Pool): RegistryDb {
  return onQueryable(
    pool,
    (work) => inTransaction(pool, (client) => work(inOneTransaction(client))),
    (work) => inTransaction(pool, (client) => work(inOneTransaction(client)), 'REPEATABLE READ READ ONLY'),
  );
}

/** What a transaction's work runs on: its connection; a transaction inside joins it. */
function inOneTransaction(client: pg.PoolClient): RegistryDb {
  const db: RegistryDb = onQueryable(client, (work) => work(db), (work) => work(db));
  return db;
}

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;
type Transact = <T>(work: (tx: RegistryDb) => Promise<T>) => Promise<T>;

function onQueryable(target: Queryable, transaction: Transact, readTransaction: Transact): RegistryDb {
  const rows = async <Row>(sql: string, params?: readonly SqlValue[]): Promise<Row[]> =>
    (await target.query<Row & pg.QueryResultRow>(toPgPlaceholders(sql), params as unknown[] | undefined)).rows;
  const firstColumn = async <T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> => {
    const result = await target.query({ text: toPgPlaceholders(sql), values: params as unknown[] | undefined, rowMode: 'array' });
    return result.rows.map((row: unknown[]) => row[0] as T);
  };
  return {
    dialect: 'postgres',
    all: rows,
    get: async (sql, params) => (await rows<never>(sql, params))[0],
    column: firstColumn,
    value: async (sql, params) => (await firstColumn<never>(sql, params))[0],
    run: async (sql, params) => (await target.query(toPgPlaceholders(sql), params as unknown[] | undefined)).rowCount ?? 0,
    transaction,
    readTransaction,
  };
}

/**
 * `?` → `$1, $2, …` in order, leaving quoted strings, quoted identifiers and comments alone
 * (a `?` inside them is text, not a parameter).
 */
export function toPgPlaceholders(sql: string): string {
  let out = '';
  let index = 0;
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"') {
      const end = closingQuote(sql, i, ch);
      out += sql.slice(i, end + 1);
      i = end;
    } else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length - 1 : end;
      out += sql.slice(i, stop + 1);
      i = stop;
    } else if (ch === '?') {
      out += `$${++index}`;
    } else {
      out += ch;
    }
  }
  return out;
}

/** Index of the quote closing the one at `start` (a doubled quote is an escaped one). */
function closingQuote(sql: string, start: number, quote: string): number {
  for (let i = start + 1; i < sql.length; i++) {
    if (sql[i] !== quote) continue;
    if (sql[i + 1] === quote) {
      i++;
      continue;
    }
    return i;
  }
  throw new Error(`unterminated ${quote} in SQL: ${sql.slice(start, start + 40)}`);
}
