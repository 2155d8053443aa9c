import { loadPublicKeys } from '../protocol/keys.js';
import type { TerminalConfig } from './config.js';
import { applyListFile } from './lists/applyFile.js';
import type { ApplyResult } from './lists/applyResult.js';
import { openListWriter } from './lists/listWriter.js';

/**
 * `qrgate lists import`: verifies a signed list file against the terminal's trusted keys and
 * scopes, then installs it in lists.db, synchronously (a one-shot process needs no worker).
 * A running terminal beside it sees the old list or the new one, never a mix, and its
 * scans never wait: they read and write other connections. A refused list leaves the
 * installed one untouched. Fails with a ListApplyError.
 */
export function importListFile(config: TerminalConfig, file: string): ApplyResult {
  const trustedKeys = loadPublicKeys(config.keys.listPublicKeys);
  const writer = openListWriter(config.dataDir, { powerLossSafe: config.storage.powerLossSafe });
  try {
    // A one-shot command has only the wall clock; the terminal's own sync uses its clock (gateway/clock.ts).
    return applyListFile(writer, file, { trustedKeys, scopes: config.lists, notExpiredAtMs: Date.now() });
  } finally {
    writer.close();
  }
}
