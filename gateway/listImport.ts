import { readFileSync } from 'node:fs';
import { verifySignedList } from '../protocol/lists/index.js';
import { loadPublicKeys } from '../protocol/keys.js';
import type { TerminalConfig } from './config.js';
import { ListCache, type InstallResult } from './listCache.js';
import { openTerminalDb } from './terminalDb.js';

/**
 * Verifies a signed list file against the terminal's trusted keys and scopes, then installs
 * it in one transaction. A refused list leaves the installed one untouched.
 */
export function importListFile(config: TerminalConfig, file: string): InstallResult {
  const trustedKeys = loadPublicKeys(config.keys.listPublicKeys);
  const bytes = readFileSync(file);
  const db = openTerminalDb(config.dataDir, { powerLossSafe: config.storage.powerLossSafe });
  try {
    const cache = new ListCache(db);
    const installed = cache.installed();
    const list = verifySignedList(bytes, {
      trustedKeys,
      scope: config.lists,
      installedVersion: (scope: string) => installed.get(scope)?.version ?? null,
    });
    return cache.install(list);
  } finally {
    db.close();
  }
}

