import type { TerminalStatus } from '../../protocol/messages.js';
import type { CentralStore } from './centralStore.js';

/** One fleet-view write: a connect or disconnect, or a terminal's status. */
export type FleetUpdate =
  | { readonly kind: 'connection'; readonly terminalId: string; readonly online: boolean; readonly atMs: number }
  | { readonly kind: 'status'; readonly terminalId: string; readonly status: TerminalStatus; readonly atMs: number };

/**
 * `recordFleet` for both stores: each update as its own write, all issued at once. The
 * upserts keep the newest by timestamp (sqliteFleet.ts, pgFleet.ts), so their order does not
 * matter; SQLite commits the writes of one turn in one transaction (sqliteWriteBatch.ts).
 */
export async function recordFleetUpdates(store: Pick<CentralStore, 'recordStatus' | 'recordConnection'>, updates: readonly FleetUpdate[]): Promise<void> {
  await Promise.all(
    updates.map((update) =>
      update.kind === 'status' ? store.recordStatus(update.terminalId, update.status, update.atMs) : store.recordConnection(update.terminalId, update.online, update.atMs),
    ),
  );
}
