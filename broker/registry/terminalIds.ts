import { randomBytes } from 'node:crypto';
import type { CentralStore } from '../store/centralStore.js';

/**
 * A terminal id nobody has used at this central: `t-` and 10 random hex digits. Removed
 * terminals keep their ids (their events still name them), so those are taken too.
 */
export async function unusedTerminalId(store: Pick<CentralStore, 'getTerminalCredentials'>): Promise<string | null> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const id = `t-${randomBytes(5).toString('hex')}`;
    if ((await store.getTerminalCredentials(id)) === null) return id;
  }
  return null;
}
