import { join } from 'node:path';
import { createRefHasher, type RefHasher } from '../../protocol/credentialRef.js';
import { loadRefKey } from '../../protocol/keys.js';
import { centralDbFileName, StoreUnavailableError, type CentralConfig } from '../config.js';
import type { OnConnectionLost } from '../store/postgres/pgDb.js';
import type { RegistryDb, RegistryHandle } from '../store/sql/registryDb.js';
import { SqliteRegistryDb } from '../store/sql/sqliteRegistryDb.js';
import { openCentralDb, type CentralDb } from '../store/sqliteSchema.js';

/**
 * The central's SQLite file itself, for what reads or checks it raw (tests, bench tools):
 * the registry's modules take a RegistryDb from openRegistry instead, on either engine.
 */
export function openRegistryDb(config: CentralConfig): CentralDb {
  if (config.store.type !== 'sqlite') {
    throw new StoreUnavailableError('the central keeps its data in PostgreSQL (store.type "postgres"): there is no SQLite file to open');
  }
  return openCentralDb(join(config.dataDir, centralDbFileName), { synchronous: 'NORMAL' });
}

/** Opens the registry, runs `work`, closes it whatever happens: for one-shot commands. */
export async function withRegistryDb<T>(config: CentralConfig, work: (db: CentralDb) => T | Promise<T>): Promise<T> {
  const db = openRegistryDb(config);
  try {
    return await work(db);
  } finally {
    db.close();
  }
}

/**
 * The registry on whichever engine the config's store names (issue 15 point 4): the SQLite
 * file in dataDir, or the PostgreSQL database, migrated. Registry modules take its `db`
 * (RegistryDb) and run the same SQL on both. The central keeps one open for the API; a
 * CLI command opens one for its run (withRegistry). `onConnectionLost` hears of a PostgreSQL
 * connection the server ended while idle (createPool): a long-lived owner logs it.
 */
export async function openRegistry(config: Pick<CentralConfig, 'store' | 'dataDir'>, onConnectionLost?: OnConnectionLost): Promise<RegistryHandle> {
  if (config.store.type === 'postgres') {
    const [{ createPool, ignoreConnectionLost }, { migratePg }, { pgRegistryDb }] = await Promise.all([
      import('../store/postgres/pgDb.js'),
      import('../store/postgres/pgSchema.js'),
      import('../store/sql/pgRegistryDb.js'),
    ]);
    // A few connections: the API's registry reads and writes, and a CLI command's, are short.
    const pool = createPool({ url: config.store.url, schema: config.store.schema, maxConnections: 4 }, onConnectionLost ?? ignoreConnectionLost);
    try {
      const client = await pool.connect();
      try {
        await migratePg(client, config.store.schema, Date.now());
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end();
      throw err;
    }
    return { db: pgRegistryDb(pool), close: () => pool.end() };
  }
  const connection = openCentralDb(join(config.dataDir, centralDbFileName), { synchronous: 'NORMAL' });
  return {
    db: new SqliteRegistryDb(connection),
    close: async () => {
      connection.close();
    },
  };
}

/** Opens the registry, runs `work`, closes it whatever happens: for one-shot commands. */
export async function withRegistry<T>(config: Pick<CentralConfig, 'store' | 'dataDir'>, work: (db: RegistryDb) => T | Promise<T>): Promise<T> {
  const registry = await openRegistry(config);
  try {
    return await work(registry.db);
  } finally {
    await registry.close();
  }
}

/** The deployment's ref hasher: the same refs the terminals compute from a scan. */
export function registryRefHasher(config: CentralConfig): RefHasher {
  return createRefHasher(loadRefKey(config.keys.refKey));
}
