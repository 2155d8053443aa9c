import { join } from 'node:path';
import { centralDbFileName, type CentralConfig } from '../config.js';
import type { RegistryHandle } from '../store/sql/registryDb.js';
import { SqliteRegistryDb } from '../store/sql/sqliteRegistryDb.js';
import { openCentralDb } from '../store/sqliteSchema.js';

/**
 * Where the registry is, as plain data: what a worker thread is handed to open a registry
 * of its own (a connection cannot cross threads; a PostgreSQL pool is per thread). Already
 * migrated: the central or command that names it opened it first (openRegistry).
 */
export type RegistryLocation =
  | { readonly engine: 'sqlite'; readonly file: string }
  /** `schema`: the search path's schema (tests run in one of their own); default public. */
  | { readonly engine: 'postgres'; readonly url: string; readonly schema?: string };

export function registryLocation(config: Pick<CentralConfig, 'store' | 'dataDir'>): RegistryLocation {
  return config.store.type === 'postgres' ? { engine: 'postgres', url: config.store.url, schema: config.store.schema } : { engine: 'sqlite', file: join(config.dataDir, centralDbFileName) };
}

/** Opens the registry at `location` on a connection (SQLite) or small pool (PostgreSQL) of the caller's own. */
export async function openRegistryAt(location: RegistryLocation): Promise<RegistryHandle> {
  if (location.engine === 'postgres') {
    const [{ createPool, ignoreConnectionLost }, { pgRegistryDb }] = await Promise.all([import('../store/postgres/pgDb.js'), import('../store/sql/pgRegistryDb.js')]);
    // A publish holds one connection for its read and one briefly for its write; a connection
    // lost while idle fails its next query, which fails the publish with the reason.
    const pool = createPool({ url: location.url, maxConnections: 2, ...(location.schema === undefined ? {} : { schema: location.schema }) }, ignoreConnectionLost);
    return { db: pgRegistryDb(pool), close: () => pool.end() };
  }
  const connection = openCentralDb(location.file, { synchronous: 'NORMAL' });
  return {
    db: new SqliteRegistryDb(connection),
    close: async () => {
      connection.close();
    },
  };
}
