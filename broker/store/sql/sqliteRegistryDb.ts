import type Database from 'better-sqlite3';
import type { CentralDb } from '../sqliteSchema.js';
import type { RegistryDb, SqlValue } from './registryDb.js';

/**
 * RegistryDb on one better-sqlite3 connection. Statements run synchronously and resolve at
 * once; prepared statements are kept per SQL text, as the modules run the same few again
 * and again.
 *
 * A transaction is BEGIN IMMEDIATE … COMMIT (a read transaction BEGIN … COMMIT) around async work, so the connection is shared
 * over time with callers that are not in it: while one is open (or waiting), every other
 * call waits its turn, or its statements would silently run inside someone else's
 * transaction and be committed or rolled back with it.
 */
export class SqliteRegistryDb implements RegistryDb {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly plucked = new Map<string, Database.Statement>();
  /** Transactions open or waiting; while above 0, outside calls queue behind them. */
  private transactions = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly direct: RegistryDb;

  constructor(readonly connection: CentralDb) {
    const self = this;
    // What a transaction's work runs on: the same statements, no queue, no nested BEGIN.
    this.direct = {
      dialect: 'sqlite',
      all: (sql, params) => settle(() => self.statement(sql).all(...(params ?? [])) as never),
      get: (sql, params) => settle(() => self.statement(sql).get(...(params ?? [])) as never),
      column: (sql, params) => settle(() => self.pluckedStatement(sql).all(...(params ?? [])) as never),
      value: (sql, params) => settle(() => self.pluckedStatement(sql).get(...(params ?? [])) as never),
      run: (sql, params) => settle(() => self.statement(sql).run(...(params ?? [])).changes),
      transaction: (work) => work(self.direct),
      readTransaction: (work) => work(self.direct),
    };
  }

  all<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row[]> {
    return this.inTurn(() => this.direct.all<Row>(sql, params));
  }

  get<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row | undefined> {
    return this.inTurn(() => this.direct.get<Row>(sql, params));
  }

  column<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.inTurn(() => this.direct.column<T>(sql, params));
  }

  value<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.inTurn(() => this.direct.value<T>(sql, params));
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.inTurn(() => this.direct.run(sql, params));
  }

  transaction<T>(work: (tx: RegistryDb) => Promise<T>): Promise<T> {
    return this.inOwnTurn('BEGIN IMMEDIATE', work);
  }

  readTransaction<T>(work: (tx: RegistryDb) => Promise<T>): Promise<T> {
    // Deferred: the WAL snapshot is taken at the first read and no write lock at all.
    return this.inOwnTurn('BEGIN', work);
  }

  private inOwnTurn<T>(begin: string, work: (tx: RegistryDb) => Promise<T>): Promise<T> {
    this.transactions++;
    const turn = this.queue.then(async () => {
      this.connection.exec(begin);
      try {
        const result = await work(this.direct);
        this.connection.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.connection.inTransaction) this.connection.exec('ROLLBACK');
        throw err;
      } finally {
        this.transactions--;
      }
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private inTurn<T>(call: () => Promise<T>): Promise<T> {
    if (this.transactions === 0) return call();
    const turn = this.queue.then(call);
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private statement(sql: string): Database.Statement {
    return cached(this.statements, sql, () => this.connection.prepare(sql));
  }

  private pluckedStatement(sql: string): Database.Statement {
    return cached(this.plucked, sql, () => this.connection.prepare(sql).pluck());
  }
}

/**
 * Statements built with a placeholder per item (IN lists, multi-row VALUES) make many texts;
 * past this many the cache starts over rather than grow without end.
 */
const maxCachedStatements = 256;

function cached(cache: Map<string, Database.Statement>, sql: string, prepare: () => Database.Statement): Database.Statement {
  let statement = cache.get(sql);
  if (statement === undefined) {
    if (cache.size >= maxCachedStatements) cache.clear();
    statement = prepare();
    cache.set(sql, statement);
  }
  return statement;
}

/** A synchronous driver call as a promise: a throw becomes a rejection, never an escape. */
function settle<T>(call: () => T): Promise<T> {
  try {
    return Promise.resolve(call());
  } catch (err) {
    return Promise.reject(err);
  }
}
