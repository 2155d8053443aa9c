import { join } from 'node:path';
import { afterEach, beforeEach, describe } from 'vitest';
import { createPool } from '../../broker/store/postgres/pgDb.js';
import { migratePg } from '../../broker/store/postgres/pgSchema.js';
import { pgRegistryDb } from '../../broker/store/sql/pgRegistryDb.js';
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
 */
export function describeOnEachRegistry(title: string, suite: (registry: () => RegistryDb, engine: SqlDialect) => void): void {
  const database = usePostgresDatabase();
  const tempDir = useTempDir('qrgate-registry-');
  for (const engine of registryEngines) {
    describe(`${title} (${engine})`, () => {
      let current: RegistryHandle | undefined;
      beforeEach(async () => {
        current = engine === 'sqlite' ? openSqliteRegistry(join(tempDir(), 'central.db')) : await openPgRegistry(database);
      });
      afterEach(async () => {
        await current?.close();
        current = undefined;
      });
      suite(() => {
        if (current === undefined) throw new Error('the registry is open only inside a test');
        return current.db;
      }, engine);
    });
  }
}

function openSqliteRegistry(file: string): RegistryHandle {
  const connection = openCentralDb(file, { synchronous: 'NORMAL' });
  return {
    db: new SqliteRegistryDb(connection),
    close: async () => {
      connection.close();
    },
  };
}

async function openPgRegistry(database: ReturnType<typeof usePostgresDatabase>): Promise<RegistryHandle> {
  const { schema, release } = await database.cleanSchema();
  const pool = createPool({ url: database.url(), schema, maxConnections: 4, synchronousCommit: 'off' });
  const client = await pool.connect();
  try {
    await migratePg(client, schema, Date.now());
  } finally {
    client.release();
  }
  return {
    db: pgRegistryDb(pool),
    close: async () => {
      await pool.end();
      release();
    },
  };
}
