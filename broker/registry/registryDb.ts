import { join } from 'node:path';
import { createRefHasher, type RefHasher } from '../../protocol/credentialRef.js';
import { loadRefKey } from '../../protocol/keys.js';
import { centralDbFileName, postgresRefusal, StoreUnavailableError, type CentralConfig } from '../config.js';
import { openCentralDb, type CentralDb } from '../store/sqliteSchema.js';

/**
 * The people registry, cards and published lists live in the central's SQLite file beside
 * the events (schema migration 2). They are worked on in bulk (a million rows per import
 * or publish), so the commands use the database directly and synchronously rather than
 * through the async, row-at-a-time CentralStore interface. The running central and these
 * commands share the file through WAL; busy_timeout covers the short overlaps.
 */
export function openRegistryDb(config: CentralConfig): CentralDb {
  if (config.store.type !== 'sqlite') {
    throw new StoreUnavailableError(postgresRefusal);
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

/** The deployment's ref hasher: the same refs the terminals compute from a scan. */
export function registryRefHasher(config: CentralConfig): RefHasher {
  return createRefHasher(loadRefKey(config.keys.refKey));
}
