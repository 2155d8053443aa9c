import { join } from 'node:path';
import { afterEach, beforeEach, describe } from 'vitest';
import { createPool, ignoreConnectionLost } from '../../broker/store/postgres/pgDb.js';
import { migratePg } from '../../broker/store/postgres/pgSchema.js';
import { pgRegistryDb } from '../../broker/store/sql/pgRegistryDb.js';
import type { RegistryLocation } from '../../broker/registry/registryLocation.js';
import type { RegistryDb, RegistryHandle, SqlDialect } from '../../broker/store/sql/registryDb.js';
import { SqliteRegistryDb } from '../../broker/store/sql/sqliteRegistryDb.js';
import { openCentralDb } from '../../broker/store/sqliteSchema.js';
import { usePostgresDatabase } from './postgres.js';
import { useTempDir } from './tempDir.js';

export const registryEngines: readonly SqlDialect[] = ['sqlite', 'postgres'];

/**
 * Runs `suite` once per engine the registry runs on (issue 15 point 4: one contract, two
 * engines), each test on a fresh, migrated, empty registry: a SQLite file in a temp folder,
 * or an emptied schema of this file's own PostgreSQL database (the machine's, test/helpers/
 * postgres.ts). Call it at a file's top level, once per file: it creates that database.
 * `location()` names the test's registry as plain data, for code that opens its own
 * connection to it (a worker thread).
 */
export function describeOnEachRegistry(
  title: string,
  suite: (registry: () => RegistryDb, engine: SqlDialect, location: () => RegistryLocation) => void,
): void {
  const database = usePostgresDatabase();
  const tempDir = useTempDir('qrgate-registry-');
  for (const engine of registryEngines) {
    describe(`${title} (${engine})`, () => {
      let current: (RegistryHandle & { readonly location: RegistryLocation }) | undefined;
      beforeEach(async () => {
        current = engine === 'sqlite' ? openSqliteRegistry(join(tempDir(), 'central.db')) : await openPgRegistry(database);
      });
      afterEach(async () => {
        await current?.close();
        current = undefined;
      });
      const open = () => {
        if (current === undefined) throw new Error('the registry is open only inside a test');
        return current;
      };
      suite(
        () => open().db,
        engine,
        () => open().location,
      );
    });
  }
}

function openSqliteRegistry(file: string): RegistryHandle & { readonly location: RegistryLocation } {
  const connection = openCentralDb(file, { synchronous: 'NORMAL' });
  return {
    location: { engine: 'sqlite', file },
    db: new SqliteRegistryDb(connection),
    close: async () => {
      connection.close();
    },
  };
}

export async function openPgRegistry(database: ReturnType<typeof usePostgresDatabase>): Promise<RegistryHandle & { readonly location: RegistryLocation }> {
  const { schema, release } = await database.cleanSchema();
  const pool = createPool({ url: database.url(), schema, maxConnections: 4, synchronousCommit: 'off' }, ignoreConnectionLost);
  const client = await pool.connect();
  try {
    await migratePg(client, schema, Date.now());
  } finally {
    client.release();
  }
  return {
    location: { engine: 'postgres', url: database.url(), schema },
    db: pgRegistryDb(pool),
    close: async () => {
      await pool.end();
      release();
    },
  };
}
